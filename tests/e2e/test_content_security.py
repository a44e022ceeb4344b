"""Every page works under the Content-Security-Policy: Chromium reports no violation (the
`csp_violations` fixture fails the test otherwise), the progress bars are drawn, and the API
docs (Swagger UI, served from this site) render."""

import pytest

from tests.e2e.conftest import PASSWORD
from tests.web.test_access_matrix import EXPECTED, ROLES, url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_page_breaks_the_policy(site, sign_in, csp_violations):
    base, world = site
    world.users["superuser"].set_password(PASSWORD)  # the pages only a superuser may open
    world.users["superuser"].save()
    pages: dict[str, list[str]] = {}
    for page, statuses in EXPECTED.items():
        role = next((r for r, status in zip(ROLES, statuses, strict=True) if status == 200), "superuser")
        pages.setdefault(role, []).append(page)
    for role, names in pages.items():
        for language in ("en", "ar"):
            browser_page = sign_in(role, language)
            paths = [url(world, name)[3:] for name in names]
            if role == "superuser":
                paths += ["/admin/", "/admin/indicators/indicator/", "/admin/indicators/result/add/"]
            for path in paths:
                response = browser_page.goto(f"{base}/{language}{path}")
                assert response.status == 200, (role, path)
            browser_page.context.close()
    assert csp_violations == []


def test_progress_bars_are_drawn_without_style_attributes(site, sign_in):
    base, _world = site
    page = sign_in("ministry_viewer", "ar")
    page.goto(f"{base}/ar/ministry/")
    track = page.locator('tr[data-national-target="NT-1"] .progress .track').bounding_box()
    fill = page.locator('tr[data-national-target="NT-1"] .progress .fill').bounding_box()
    assert track["width"] > 0
    assert fill["width"] == pytest.approx(track["width"] * 0.73, abs=2)  # 73.5 % → 73 % of the track
    assert fill["x"] + fill["width"] == pytest.approx(track["x"] + track["width"], abs=1)  # from the right


def test_the_api_docs_render_from_this_site(site, sign_in):
    base, _world = site
    page = sign_in("ministry_viewer", "en")
    page.goto(f"{base}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Twinning API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag", timeout=20_000)
