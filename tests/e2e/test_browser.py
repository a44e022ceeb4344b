"""End to end in headless Chromium: results entered in Arabic, submitted, approved by the ministry,
and the dashboard moves; and the offline XLSX round-trip."""

from decimal import Decimal

import pytest
from openpyxl import load_workbook

from indicators.models import Result
from tests.roles import Q2
from web.spreadsheets import FIRST_DATA_ROW, KEYS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def national_progress(page) -> str:
    return page.inner_text('tr[data-national-target="NT-1"] .progress .value').strip()


def test_arabic_entry_submit_approve_moves_the_dashboard(site, sign_in, artifacts):
    base, world = site
    indicator, x = world.indicators["p1"], world.orgs["x"]

    approver = sign_in("ministry_approver", "ar")
    approver.goto(f"{base}/ar/ministry/")
    assert approver.get_attribute("html", "dir") == "rtl"
    before = national_progress(approver)
    assert before == "73.5\u00a0%"  # (47 % + 100 %) / 2, Western digits and decimal point as in Libyan documents

    editor = sign_in("municipality_x_editor", "ar")
    editor.goto(f"{base}/ar/results/enter/?indicator={indicator.pk}&municipality={x.pk}&period={Q2[0].isoformat()}")
    assert editor.get_attribute("html", "lang") == "ar"
    editor.fill("input[name='total-value']", "30")
    editor.fill("input[name='sex.female-value']", "١٢")  # Arabic-Indic digits, as typed on an Arabic keyboard
    editor.fill("input[name='sex.male-value']", "15")
    assert editor.is_visible("#sum-warnings")  # 12 + 15 ≠ 30: warned in the browser, not blocked
    editor.screenshot(path=str(artifacts / "entry-ar.png"), full_page=True)
    with editor.expect_navigation():
        editor.click("button[value=submit]")
    assert "حُفظت النتائج وقُدّمت للاعتماد" in editor.inner_text(".messages")
    editor.screenshot(path=str(artifacts / "entry-ar-submitted.png"), full_page=True)
    statuses = set(
        Result.objects.filter(indicator=indicator, municipality=x, period_start=Q2[0]).values_list("status", flat=True)
    )
    assert statuses == {Result.Status.SUBMITTED}

    approver.goto(f"{base}/ar/results/approvals/")
    group = approver.locator("section.queue-group", has_text=indicator.code).first
    with approver.expect_navigation():
        group.locator("button[value=approve]").click()
    assert "اعتُمدت 3 نتائج." in approver.inner_text(".messages")  # plural form of three: نتائج
    assert not Result.objects.filter(indicator=indicator, status=Result.Status.SUBMITTED).exists()

    approver.goto(f"{base}/ar/ministry/")
    after = national_progress(approver)
    assert after == "88.5\u00a0%", after  # P1-1 now (40 + 7 + 30) % of 100
    approver.screenshot(path=str(artifacts / "ministry-ar-after-approval.png"), full_page=True)


def test_xlsx_download_fill_upload(site, sign_in, artifacts, tmp_path):
    base, world = site
    programme, x = world.programmes["p1"], world.orgs["x"]
    editor = sign_in("municipality_x_editor", "en")
    editor.goto(f"{base}/en/results/spreadsheet/?programme={programme.pk}&municipality={x.pk}&on={Q2[0].isoformat()}")
    with editor.expect_download() as download_info:
        editor.click("#download-button")
    path = tmp_path / "results.xlsx"
    download_info.value.save_as(path)

    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    value_column = KEYS.index("value") + 1
    for row in range(FIRST_DATA_ROW, sheet.max_row + 1):
        option = sheet.cell(row, KEYS.index("option") + 1).value
        sheet.cell(row, value_column, {None: 21, "": 21, "female": 11, "male": 10}.get(option))
    workbook.save(path)

    editor.set_input_files("input[name=file]", str(path))
    editor.check("input[name=status][value=submitted]")
    with editor.expect_navigation():
        editor.click("#upload-button")
    assert "results created" in editor.inner_text(".messages")
    editor.screenshot(path=str(artifacts / "spreadsheet-uploaded.png"), full_page=True)

    editor.goto(
        f"{base}/en/results/enter/?indicator={world.indicators['p1'].pk}&municipality={x.pk}&period={Q2[0].isoformat()}"
    )
    assert editor.input_value("input[name='total-value']") == "21"
    assert editor.input_value("input[name='sex.female-value']") == "11"
    assert "Submitted" in editor.inner_text("table.grid")
    found = Result.objects.get(
        indicator=world.indicators["p1"], municipality=x, period_start=Q2[0], disaggregation_option="male"
    )
    assert (found.value, found.status) == (Decimal("10"), Result.Status.SUBMITTED)


def test_keyboard_only_entry_in_arabic(site, sign_in):
    """Skip link first, then the grid is reachable and submittable with the keyboard alone."""
    base, world = site
    indicator, x = world.indicators["p1"], world.orgs["x"]
    page = sign_in("municipality_x_editor", "ar")
    page.goto(f"{base}/ar/results/enter/?indicator={indicator.pk}&municipality={x.pk}&period={Q2[0].isoformat()}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "total-value":
            break
    assert page.evaluate("document.activeElement.name") == "total-value"
    page.keyboard.press("Control+A")
    page.keyboard.type("9")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits the grid's form with its first button: save as draft
    result = Result.objects.get(indicator=indicator, municipality=x, period_start=Q2[0], disaggregation_category="")
    assert (result.value, result.status) == (Decimal("9"), Result.Status.DRAFT)
