"""The drill-down pages on a phone, in Arabic, in a real browser: no sideways scrolling (wide tables
and charts scroll inside their own box) and chart text that can be read."""

import pytest

from .conftest import PASSWORD, watch_for_violations

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def open_as(browser, site, csp_violations):
    """open_as(role) → a signed-in Arabic page at phone size."""
    base, _world = site
    contexts = []

    def sign_in(username):
        context = browser.new_context(locale="ar-LY", viewport=PHONE)
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


def chart_text_sizes(page):
    """The rendered size of every text of every chart, in CSS pixels."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.chart svg text')].map(t => {
          const svg = t.ownerSVGElement;
          const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
          return parseFloat(getComputedStyle(t).fontSize) * scale;
        })"""
    )


def test_arabic_indicator_page_fits_a_phone_and_its_charts_read(site, open_as, artifacts):
    base, world = site
    page = open_as("donor_a_viewer")
    page.goto(f"{base}/ar/indicators/{world.indicators['p1'].pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    sizes = chart_text_sizes(page)
    assert sizes and min(sizes) >= 10, sizes
    periods = page.locator(".chart.trend svg text.period").all_text_contents()
    assert "الربع الأول 2025" in periods, periods
    assert page.locator("#municipality-periods").count() == 1
    page.screenshot(path=str(artifacts / "indicator-ar-phone.png"), full_page=True)


@pytest.mark.parametrize("kind", ["national target", "funder goal"])
def test_arabic_drill_down_pages_fit_a_phone(site, open_as, kind):
    base, world = site
    path = (
        f"/ar/national-targets/{world.national_target.pk}/"
        if kind == "national target"
        else f"/ar/funder-goals/{world.funder_goals['a'].pk}/"
    )
    page = open_as("ministry_viewer")
    page.goto(base + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], kind
    sizes = chart_text_sizes(page)
    assert sizes and min(sizes) >= 10, sizes
