"""In Chromium: every page has a print button in its header (static/js/print.js) that prints and
is itself left out of the print, with the header, buttons and download links; tables print whole;
date fields are labelled and hinted in the page's language and take a date typed day first."""

import datetime

import pytest

from projects.models import Activity

pytestmark = pytest.mark.browser


def arabic_pages(world) -> list[tuple[str, str]]:
    p1 = world.programmes["p1"]
    return [
        ("ministry_viewer", "/ar/ministry/"),
        ("donor_a_viewer", "/ar/donor/"),
        ("donor_a_viewer", f"/ar/programmes/{p1.pk}/"),
        ("municipality_x_editor", f"/ar/municipalities/{world.orgs['x'].pk}/"),
        ("ministry_viewer", "/ar/reports/completeness/"),
        ("municipality_x_editor", "/ar/activities/new/"),
    ]


def test_every_arabic_page_has_a_print_button_that_prints(site, sign_in):
    base, world = site
    pages = {}
    for role, path in arabic_pages(world):
        page = pages.get(role) or sign_in(role, "ar")
        pages[role] = page
        page.goto(f"{base}{path}")
        button = page.locator("header button.print-page")
        assert button.is_visible(), path
        assert button.inner_text().strip() == "طباعة", path
        page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
        button.click()
        assert page.evaluate("window.__printed") == 1, path


def test_the_print_leaves_out_the_header_buttons_and_downloads_and_shows_tables_whole(site, sign_in):
    base, _world = site
    page = sign_in("ministry_viewer", "ar")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/ar/ministry/")
    assert page.locator(".downloads a").first.is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    assert not page.locator("button.print-page").is_visible()
    assert not page.locator(".downloads a").first.is_visible()
    assert page.locator("#national-targets").is_visible()
    # No scroll box cuts a table's columns on paper.
    overflow = page.evaluate("[...document.querySelectorAll('.table-wrap')].map(e => getComputedStyle(e).overflowX)")
    assert overflow and set(overflow) == {"visible"}


def test_the_date_fields_speak_the_page_language_and_take_a_date_day_first(site, sign_in):
    base, world = site
    page = sign_in("municipality_x_editor", "ar")
    page.goto(f"{base}/ar/activities/new/")
    assert page.locator('input[type="date"]').count() == 0
    start = page.locator('input[name="start_date"]')
    hint = page.locator(f"#{start.get_attribute('id')}-hint")
    assert hint.is_visible() and hint.inner_text().startswith("اليوم/الشهر/السنة")
    assert page.locator(f'label[for="{start.get_attribute("id")}"]').inner_text().rstrip(":") == "تاريخ البدء"
    assert start.evaluate("e => getComputedStyle(e).direction") == "ltr"
    page.select_option('select[name="workstream"]', str(world.workstreams["p1"].pk))
    page.fill('input[name="title_ar"]', "ورشة الإيرادات")
    start.fill("٠٢/٠٦/٢٠٢٥")
    page.fill('input[name="end_date"]', "04/06/2025")
    with page.expect_navigation():
        page.click('main button[type="submit"]')
    activity = Activity.objects.get(title_ar="ورشة الإيرادات")
    assert (activity.start_date, activity.end_date) == (datetime.date(2025, 6, 2), datetime.date(2025, 6, 4))

    page.goto(f"{base}/ar/programmes/{world.programmes['p1'].pk}/")
    as_of = page.locator('input[name="as_of"]')
    assert page.locator("#iptt-as-of-hint").inner_text().startswith("اليوم/الشهر/السنة")
    as_of.fill("30/06/2025")
    with page.expect_navigation():
        page.click("#iptt-options button[type=submit]")
    assert "as_of=30%2F06%2F2025" in page.url
    href = page.locator('a[href*="/api/v1/reports/iptt/"][href*="format=xlsx"]').get_attribute("href")
    assert "as_of=2025-06-30" in href and href.endswith("lang=ar")


def test_folded_numbers_are_printed_open_and_folded_again_afterwards(site, sign_in):
    base, _world = site
    page = sign_in("donor_a_viewer", "ar")
    page.goto(f"{base}/ar/donor/")
    details = page.locator(".chart details")
    assert details.count() and not details.first.evaluate("d => d.open")
    page.evaluate("() => { window.dispatchEvent(new Event('beforeprint')); }")
    assert all(details.nth(i).evaluate("d => d.open") for i in range(details.count()))
    page.evaluate("() => { window.dispatchEvent(new Event('afterprint')); }")
    assert not any(details.nth(i).evaluate("d => d.open") for i in range(details.count()))
