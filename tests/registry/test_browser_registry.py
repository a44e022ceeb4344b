"""The registry in headless Chromium, under the site's Content-Security-Policy: a ministry editor
maps a sector, uploads an IATI file, confirms a duplicate, and reads the 3W page and its map in
English and Arabic. Any policy violation on any page fails the test (tests/e2e/conftest.py)."""

import pytest

from registry.models import OverlapCandidate
from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    artifacts,
    browser,
    csp_violations,
    eager_celery,
    sign_in,
    site,
)

from .conftest import registry_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_ministry_editor_keeps_the_registry_in_the_browser(sign_in, site, tmp_path):  # noqa: F811
    base, _world = site
    page = sign_in("ministry_approver")

    page.goto(f"{base}/en/registry/sector-themes/")
    page.fill("input[name=dac_code]", "15114")
    page.select_option("select[name=theme]", label="Local revenue")
    with page.expect_navigation():
        page.click("main form.inline-fields button[type=submit]")
    assert "The mapping was added." in page.inner_text("main")

    upload = tmp_path / "activities.xml"
    upload.write_bytes(registry_file())
    page.goto(f"{base}/en/registry/imports/")
    page.set_input_files("input[name=file]", str(upload))
    with page.expect_navigation():
        page.click("main form.stacked button[type=submit]")
    assert "4 created, 0 updated, 0 unchanged, 1 skipped (not in Libya)" in page.inner_text("#import-counts")

    page.goto(f"{base}/en/registry/candidates/")
    first = page.locator("section[id^=candidate-]").first
    candidate_id = int(first.get_attribute("id").split("-")[1])
    first.locator("select").select_option("duplicate")
    with page.expect_navigation():
        first.locator("button[type=submit]").click()
    assert "The pair was marked “Duplicate”." in page.inner_text("main")
    assert OverlapCandidate.objects.get(pk=candidate_id).status == "duplicate"

    page.goto(f"{base}/en/registry/3w/")
    assert page.locator("#registry-map path").count() == 1
    assert "Municipal revenue in Ghadames" in page.inner_text("#three-w")
    page.goto(f"{base}/ar/registry/3w/")
    assert page.inner_text("h1") == "من يعمل ماذا وأين"
    assert page.get_attribute("html", "dir") == "rtl"
