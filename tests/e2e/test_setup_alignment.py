"""In headless Chromium, in Arabic: the implementer sets a programme's alignment on the matrix
(tick, weight, preview, save) and opens the programme set-up pages; the pages do not scroll
sideways on a phone. Screenshots of each page go to docs/screenshots (docs/pages.md)."""

from pathlib import Path

import pytest

from indicators.models import Alignment
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_the_implementer_aligns_in_arabic(site, sign_in):
    base, world = site
    p1, indicator = world.programmes["p1"], world.indicators["p1"]
    target = f.NationalTargetFactory(code="NT-2", title_ar="رفع الإيرادات المحلية", title_en="")
    f.FunderGoalFactory(donor=world.orgs["donor_a"], code="A-1.1", parent=world.funder_goals["a"], title_en="")
    editor = sign_in("implementer_editor", "ar")
    editor.goto(f"{base}/ar/setup/programmes/{p1.pk}/alignment/")
    assert editor.get_attribute("html", "dir") == "rtl"
    cell = f"{indicator.pk}-n{target.pk}"
    editor.check(f"#a-{cell}")
    editor.fill(f"#w-{cell}", "2")
    with editor.expect_navigation():
        editor.click("#preview-alignment")
    assert "فجوة" not in editor.inner_text(f"#count-n{target.pk}")
    assert not Alignment.objects.filter(national_target=target).exists()
    editor.fill(f"#w-{cell}", "-1")
    with editor.expect_navigation():
        editor.click("#save-alignment")
    assert editor.get_attribute(f"#w-{cell}", "aria-invalid") == "true"
    assert not Alignment.objects.filter(national_target=target).exists()
    editor.fill(f"#w-{cell}", "2")
    with editor.expect_navigation():
        editor.click("#save-alignment")
    assert editor.inner_text(".messages")
    assert Alignment.objects.get(national_target=target).weight == 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    editor.screenshot(path=str(SCREENSHOTS / "setup-alignment-ar.png"), full_page=True)

    editor.goto(f"{base}/ar/setup/programmes/")
    editor.screenshot(path=str(SCREENSHOTS / "setup-programmes-ar.png"), full_page=True)
    editor.goto(f"{base}/ar/setup/programmes/{p1.pk}/")
    editor.fill("input[name=reporting_due_days]", "45")
    with editor.expect_navigation():
        editor.click("#save-programme")
    assert editor.inner_text(".messages")
    editor.screenshot(path=str(SCREENSHOTS / "setup-programme-ar.png"), full_page=True)

    editor.set_viewport_size({"width": 390, "height": 844})
    for address in (f"setup/programmes/{p1.pk}/alignment/", "setup/programmes/", f"setup/programmes/{p1.pk}/"):
        editor.goto(f"{base}/ar/{address}")
        width = editor.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (address, width)
