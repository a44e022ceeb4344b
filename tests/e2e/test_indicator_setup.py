"""In headless Chromium, in Arabic: a ministry editor adds a standard indicator, the implementer
copies it into a programme and completes it on the indicator's page; the pages stay within a phone's
width. The screenshots are those of docs/pages.md ("Indicator set-up")."""

import pytest

from indicators.models import DisaggregationCategory, Indicator, StandardIndicator
from partners.models import Membership
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit(page, selector="#indicator-form button[type=submit]"):
    with page.expect_navigation():
        page.click(selector)


def fits_a_phone(page) -> bool:
    page.set_viewport_size({"width": 390, "height": 800})
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 720})
    return fits


def test_a_standard_indicator_is_kept_copied_and_completed_in_arabic(site, sign_in, artifacts):
    base, world = site
    ministry_editor = f.UserFactory(username="ministry_editor")
    f.MembershipFactory(user=ministry_editor, organisation=world.orgs["ministry"], role=Membership.Role.EDITOR)
    sex = DisaggregationCategory.objects.get(code="sex")
    programme = world.programmes["p1"]

    ministry = sign_in("ministry_editor", "ar")
    ministry.goto(f"{base}/ar/setup/standard-indicators/new/")
    assert ministry.get_attribute("html", "dir") == "rtl"
    ministry.fill("#id_code", "NAT-7")
    ministry.fill("#id_name_ar", "عدد موظفي البلديات الذين أتموا التدريب")
    ministry.fill("#id_definition_ar", "الموظفون الذين حضروا ثلاثة أرباع جلسات التدريب على الأقل.")
    ministry.fill("#id_unit_ar", "موظف")
    ministry.select_option("#id_time_aggregation", "sum")
    ministry.check(f"input[name=disaggregations][value='{sex.pk}']")
    ministry.check("#id_whole_numbers")
    ministry.fill("#id_data_source_ar", "سجلات الحضور")
    submit(ministry)
    assert "أُنشئ المؤشر المعياري" in ministry.inner_text(".messages")
    standard = StandardIndicator.objects.get(code="NAT-7")
    assert standard.name_ar and not standard.name_en and standard.whole_numbers
    assert fits_a_phone(ministry)
    ministry.screenshot(path=str(artifacts / "setup-standard-indicators-ar.png"), full_page=True)

    editor = sign_in("implementer_editor", "ar")
    editor.goto(f"{base}/ar/setup/programmes/{programme.pk}/indicators/")
    editor.click("#copy-from-standard")
    editor.select_option("#id_source", str(standard.pk))
    editor.fill("#id_code", "NAT-7")
    submit(editor, "#copy-form button[type=submit]")
    copy = Indicator.objects.get(programme=programme, code="NAT-7")
    assert copy.standard_id == standard.pk and copy.name_ar == standard.name_ar
    assert editor.is_visible("#standard-link")

    editor.select_option("#id_workstream", str(world.workstreams["p1"].pk))
    editor.fill("#id_baseline_value", "12")
    editor.fill("#id_baseline_date", "2024-12-31")
    editor.fill("#id_lop_target", "150")
    editor.fill("#id_value_min", "20")
    editor.fill("#id_value_max", "10")  # out of order: refused next to the field, nothing saved
    submit(editor)
    assert editor.inner_text("#id_value_min_error") == "لا يجوز أن تكون أعلى قيمة معقولة أقل من أدنى قيمة معقولة."
    copy.refresh_from_db()
    assert copy.lop_target is None
    editor.fill("#id_value_min", "")
    editor.fill("#id_value_max", "")
    submit(editor)
    copy.refresh_from_db()
    assert (copy.workstream_id, copy.lop_target) == (world.workstreams["p1"].pk, 150)
    assert fits_a_phone(editor)
    editor.screenshot(path=str(artifacts / "setup-indicator-ar.png"), full_page=True)

    editor.goto(f"{base}/ar/setup/programmes/{programme.pk}/indicators/")
    assert "NAT-7" in editor.inner_text("#indicators")
    assert fits_a_phone(editor)
    editor.screenshot(path=str(artifacts / "setup-indicator-list-ar.png"), full_page=True)
