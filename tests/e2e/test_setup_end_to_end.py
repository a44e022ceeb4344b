"""Issue 14's walk, in headless Chromium and in Arabic, through the set-up pages alone: a ministry
editor writes a national target; the implementer defines an indicator, its targets, and aligns it to
that national target and to the donor's (USAID's) goal; a municipal editor enters a result and a
ministry approver (another person) approves it; the national target's progress moves on the ministry
dashboard."""

from decimal import Decimal

import pytest

from indicators.models import Alignment, Indicator, NationalTarget, Result, Target
from partners.models import Membership
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def dashboard_row(page, code):
    row = page.locator(f'tr[data-national-target="{code}"]')
    return row.locator(".progress .value").inner_text().strip(), row.locator("td.num").first.inner_text().strip()


def test_a_national_target_set_up_aligned_and_reported_on_through_the_pages(site, sign_in, artifacts):
    base, world = site
    programme, x, usaid_goal = world.programmes["p1"], world.orgs["x"], world.funder_goals["a"]
    ministry_editor = f.UserFactory(username="ministry_editor")
    f.MembershipFactory(user=ministry_editor, organisation=world.orgs["ministry"], role=Membership.Role.EDITOR)

    # The ministry writes its national target.
    ministry = sign_in("ministry_editor", "ar")
    ministry.goto(f"{base}/ar/setup/")
    assert ministry.get_attribute("html", "dir") == "rtl"
    ministry.click("text=الأهداف الوطنية")
    ministry.goto(f"{base}/ar/setup/national-targets/new/")
    ministry.fill("#id_code", "NT-9")
    ministry.fill("#id_title_ar", "بلديات تقدّم خدماتها إلكترونيًا")
    goal = ministry.locator("details.sdg-goal", has=ministry.locator("#id_sdg_targets_16_6"))
    goal.locator("summary").click()  # the picker lists each goal's targets folded
    assert "مؤسسات" in ministry.inner_text("label[for=id_sdg_targets_16_6]")  # the UN's Arabic wording
    ministry.check("#id_sdg_targets_16_6")
    submit(ministry, "#save-national-target")
    target = NationalTarget.objects.get(code="NT-9")
    assert target.title_ar == "بلديات تقدّم خدماتها إلكترونيًا" and not target.title_en
    assert target.sdg_targets == ["16.6"]

    # The implementer defines the indicator, in Arabic only.
    implementer = sign_in("implementer_editor", "ar")
    implementer.goto(f"{base}/ar/setup/programmes/{programme.pk}/indicators/new/")
    implementer.fill("#id_code", "P1-9")
    implementer.fill("#id_name_ar", "عدد الخدمات البلدية المتاحة إلكترونيًا")
    implementer.select_option("#id_frequency", "quarterly")
    implementer.select_option("#id_time_aggregation", "sum")
    implementer.fill("#id_lop_target", "100")
    submit(implementer, "#indicator-form button[type=submit]")
    indicator = Indicator.objects.get(programme=programme, code="P1-9")
    assert indicator.name_ar and not indicator.name_en and indicator.lop_target == 100

    # Its programme-wide target for the first quarter.
    implementer.goto(f"{base}/ar/setup/programmes/{programme.pk}/targets/?indicator={indicator.pk}")
    implementer.locator("#target-grid input[data-row='0'][data-col='0']").fill("50")
    submit(implementer, "#save-targets")
    (first_quarter,) = Target.objects.filter(indicator=indicator)
    assert (first_quarter.municipality_id, first_quarter.value) == (None, Decimal(50))

    # Aligned to the new national target and to USAID's goal, on the matrix.
    implementer.goto(f"{base}/ar/setup/programmes/{programme.pk}/alignment/")
    implementer.check(f"#a-{indicator.pk}-n{target.pk}")
    implementer.check(f"#a-{indicator.pk}-g{usaid_goal.pk}")
    submit(implementer, "#save-alignment")
    assert set(Alignment.objects.filter(indicator=indicator).values_list("national_target", "funder_goal")) == {
        (target.pk, None),
        (None, usaid_goal.pk),
    }

    approver = sign_in("ministry_approver", "ar")
    approver.goto(f"{base}/ar/ministry/")
    before = dashboard_row(approver, "NT-9")

    # A municipal editor reports the quarter; the ministry approves it (maker and checker differ).
    editor = sign_in("municipality_x_editor", "ar")
    period = first_quarter.period_start.isoformat()
    editor.goto(f"{base}/ar/results/enter/?indicator={indicator.pk}&municipality={x.pk}&period={period}")
    editor.fill("input[name='total-value']", "40")
    submit(editor, "button[value=submit]")
    assert Result.objects.get(indicator=indicator).status == Result.Status.SUBMITTED

    approver.goto(f"{base}/ar/results/approvals/")
    group = approver.locator("section.queue-group", has_text="P1-9").first
    with approver.expect_navigation():
        group.locator("button[value=approve]").click()
    assert Result.objects.get(indicator=indicator).status == Result.Status.APPROVED

    approver.goto(f"{base}/ar/ministry/")
    to_date, life_of_programme = dashboard_row(approver, "NT-9")
    assert (to_date, life_of_programme) != before
    assert to_date == "80.0\u00a0%", to_date  # 40 reported of the 50 planned by now
    assert "40" in life_of_programme, life_of_programme  # 40 of the 100 planned over the programme
    approver.screenshot(path=str(artifacts / "setup-end-to-end-ministry-ar.png"), full_page=True)
