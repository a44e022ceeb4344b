"""Arabic pages an official can use all day, in a real browser: dates and numbers as Libyan
documents write them, no English where a name exists, no sideways scrolling on a phone, charts
whose text can be read (docs/pages.md)."""

import re
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from partners.models import Organisation
from tests.roles import Q2

from .conftest import PASSWORD, watch_for_violations

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ARABIC_INDIC_DIGITS = re.compile("[\u0660-\u0669\u06f0-\u06f9]")
ARABIC_MONTHS = "يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر"
# "30 نوفمبر 2026، 7:45 ص": day, month, year, the Arabic comma, the time and ص/م.
ARABIC_MOMENT = re.compile(rf"\b\d{{1,2}} ({ARABIC_MONTHS}) \d{{4}}، \d{{1,2}}:\d{{2}} (ص|م)")


@pytest.fixture
def open_as(browser, site, csp_violations):
    """open_as(role, viewport) → a signed-in Arabic page of that size."""
    base, _world = site
    contexts = []

    def sign_in(username, viewport=DESKTOP):
        context = browser.new_context(locale="ar-LY", viewport=viewport, accept_downloads=True)
        watch_for_violations(context, csp_violations)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{base}/ar/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert "/login/" not in page.url
        return page

    yield sign_in
    for context in contexts:
        context.close()


def pages_of(world) -> dict[str, tuple[str, str]]:
    """Page name → (role that opens it, Arabic path)."""
    p1, x, indicator = world.programmes["p1"], world.orgs["x"], world.indicators["p1"]
    return {
        "ministry dashboard": ("ministry_viewer", "/ar/ministry/"),
        "donor dashboard": ("donor_a_viewer", "/ar/donor/"),
        "programme page": ("donor_a_viewer", f"/ar/programmes/{p1.pk}/"),
        "activities": ("implementer_editor", "/ar/activities/"),
        "result entry": (
            "municipality_x_editor",
            f"/ar/results/enter/?indicator={indicator.pk}&municipality={x.pk}&period={Q2[0].isoformat()}",
        ),
    }


def test_arabic_dates_are_day_month_year_and_every_digit_is_western(site, open_as):
    base, world = site
    page = open_as("ministry_viewer")
    page.goto(f"{base}/ar/ministry/")
    assert ARABIC_MOMENT.search(page.inner_text(".freshness")), page.inner_text(".freshness")
    assert re.fullmatch(r"\d+\.\d\u00a0%", page.inner_text('tr[data-national-target="NT-1"] .progress .value').strip())
    for name, (role, path) in pages_of(world).items():
        viewer = open_as(role)
        viewer.goto(base + path)
        text = viewer.inner_text("body")
        assert not ARABIC_INDIC_DIGITS.search(text), (name, ARABIC_INDIC_DIGITS.findall(text))
    spreadsheet = open_as("municipality_x_editor")
    spreadsheet.goto(f"{base}/ar/results/spreadsheet/")
    assert not ARABIC_INDIC_DIGITS.search(spreadsheet.inner_text("body"))
    assert spreadsheet.inner_text("#download-heading").startswith("1.")


def test_no_english_where_a_name_exists(site, open_as):
    base, world = site
    Organisation.objects.filter(pk=world.orgs["donor_a"].pk).update(acronym="USAID")
    Organisation.objects.filter(pk=world.orgs["donor_b"].pk).update(acronym="EU")
    page = open_as("ministry_viewer")
    page.goto(f"{base}/ar/ministry/")
    overview = page.inner_text("#municipality-overview") if page.query_selector("#municipality-overview") else ""
    overview = overview or page.inner_text("main")
    assert "ليبيا" in overview and "الولايات المتحدة" in overview
    assert not re.search(r"\b(LY|US)\b", overview)
    headers = page.inner_text("#matrix thead")
    assert "USAID" not in headers and "EU" not in headers
    assert page.query_selector('#matrix thead abbr[title="USAID"]') is not None
    assert "Demo" not in page.inner_text(".who") and page.inner_text(".who").strip() == world.orgs["ministry"].name_ar

    donor = open_as("donor_a_viewer")
    donor.goto(f"{base}/ar/programmes/{world.programmes['p1'].pk}/")
    indicators = donor.inner_text("main")
    assert "الزيادة أفضل" in indicators and "increase" not in indicators.lower()
    with donor.expect_download() as caught:
        donor.click("a[href*='format=xlsx']")
    sheet = load_workbook(BytesIO(Path(caught.value.path()).read_bytes())).active
    assert sheet.sheet_view.rightToLeft
    direction = [row[3].value for row in sheet.iter_rows(min_row=2)]
    assert direction == ["الزيادة أفضل"]

    editor = open_as("municipality_x_editor")
    editor.goto(f"{base}/ar/results/spreadsheet/")
    assert editor.inner_text("label[for=id_file]") == "اختر ملفًا"
    assert editor.locator("input[type=file]").bounding_box()["width"] <= 1  # the browser's own words hidden


PHONE_PAGES = ["ministry dashboard", "donor dashboard", "programme page", "activities", "result entry"]


@pytest.mark.parametrize("name", PHONE_PAGES)
def test_no_page_scrolls_sideways_on_a_phone(site, open_as, name):
    base, world = site
    role, path = pages_of(world)[name]
    page = open_as(role, PHONE)
    page.goto(base + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_chart_text_is_readable_and_names_the_periods(site, open_as, viewport):
    base, _world = site
    page = open_as("donor_a_viewer", viewport)
    page.goto(f"{base}/ar/donor/")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('.chart svg text.tick')].map(t => {
          const svg = t.ownerSVGElement;
          const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
          return parseFloat(getComputedStyle(t).fontSize) * scale;
        })"""
    )
    assert sizes and min(sizes) >= 11, sizes
    periods = page.locator(".chart svg text.period").all_text_contents()
    assert "الربع الأول 2025" in periods, periods
    ticks = page.locator(".chart svg .value-axis text").all_text_contents()
    assert 4 <= len(ticks) <= 6, ticks
    assert page.locator(".chart svg .target-line").count() >= 1
    assert page.locator(".chart table tbody tr").count() >= 1
