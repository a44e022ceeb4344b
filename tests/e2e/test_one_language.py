"""In headless Chromium: an Arabic-speaking municipality editor logs an activity with an Arabic
title only, and finds it in the list."""

import pytest

from projects.models import Activity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "زيارة ميدانية لمركز خدمات المواطنين"


def test_an_activity_logged_in_arabic_only_is_listed(site, sign_in, artifacts):
    base, world = site
    editor = sign_in("municipality_x_editor", "ar")
    editor.goto(f"{base}/ar/activities/new/")
    assert editor.get_attribute("html", "dir") == "rtl"
    editor.select_option("select[name=workstream]", str(world.workstreams["p1"].pk))
    editor.select_option("select[name=municipality]", str(world.orgs["x"].pk))
    editor.fill("input[name=title_ar]", TITLE)
    editor.fill("input[name=start_date]", "2025-05-01")
    editor.fill("input[name=end_date]", "2025-05-02")
    with editor.expect_navigation():
        editor.click("form.stacked button[type=submit]")
    assert TITLE in editor.inner_text(".messages")
    editor.screenshot(path=str(artifacts / "activity-ar-only.png"), full_page=True)
    row = editor.locator("table.activities tbody tr", has_text=TITLE)
    assert row.count() == 1
    assert row.locator(".other-language").count() == 0  # shown in its own language, unmarked
    assert Activity.objects.get(title_ar=TITLE).title_en == ""
