"""The target grid in headless Chromium, in Arabic: a block pasted from Excel fills the cells in the
order of the data (the next period, which stands to the left on a right-to-left page), and the
grid saves it."""

from decimal import Decimal

import pytest

from indicators.models import Target
from tests.roles import Q1, Q2

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def cell(page, row: int, col: int):
    return page.locator(f"#target-grid input[data-row='{row}'][data-col='{col}']")


def test_excel_paste_into_the_arabic_grid_fills_cells_in_data_order(site, sign_in, artifacts):
    base, world = site
    programme, indicator, x = world.programmes["p1"], world.indicators["p1"], world.orgs["x"]
    editor = sign_in("implementer_editor", "ar")
    editor.goto(f"{base}/ar/setup/programmes/{programme.pk}/targets/?indicator={indicator.pk}")
    assert editor.get_attribute("html", "dir") == "rtl"

    # What Excel puts on the clipboard for two rows of two cells: cells joined by tabs, rows by
    # newlines. Written to the browser's clipboard and pasted with the keyboard, as a user would.
    editor.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    editor.evaluate("(text) => navigator.clipboard.writeText(text)", "10\t20\r\n30\t40\r\n")
    cell(editor, 0, 0).click()
    editor.keyboard.press("Control+V")

    row_one = int(cell(editor, 1, 0).get_attribute("name").split("-")[1])  # the first municipality shown
    assert row_one in (x.pk, world.orgs["y"].pk)
    values = [[cell(editor, row, col).input_value() for col in (0, 1)] for row in (0, 1)]
    assert values == [["10", "20"], ["30", "40"]]
    # The second period stands to the left of the first on the Arabic page: the paste followed the data.
    assert cell(editor, 0, 1).bounding_box()["x"] < cell(editor, 0, 0).bounding_box()["x"]
    assert cell(editor, 0, 2).input_value() == "" and cell(editor, 2, 0).input_value() == ""
    editor.screenshot(path=str(artifacts / "setup-targets-ar.png"), full_page=True)

    with editor.expect_navigation():
        editor.click("#save-targets")
    assert editor.locator(".messages").count() == 1
    stored = {(t.municipality_id, t.period_start): t.value for t in Target.objects.filter(indicator=indicator)}
    assert stored == {
        (None, Q1[0]): Decimal(10),
        (None, Q2[0]): Decimal(20),
        (row_one, Q1[0]): Decimal(30),
        (row_one, Q2[0]): Decimal(40),
    }

    editor.set_viewport_size({"width": 390, "height": 800})
    assert editor.evaluate("document.documentElement.scrollWidth") <= 390  # the grid scrolls in its own box
