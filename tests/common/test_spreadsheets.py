"""The one formula escape that every spreadsheet we write (IPTT CSV/XLSX, the offline workbook) uses."""

import datetime
from decimal import Decimal

import pytest

from common.spreadsheets import escape_formula, unescape_formula

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r", "\n", "\0"]
START_NAMES = ["equals", "plus", "minus", "at", "tab", "carriage-return", "line-feed", "nul"]


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=START_NAMES)
def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe(start):
    text = start + 'HYPERLINK("http://evil")'
    assert escape_formula(text) == "'" + text


def test_the_usual_attacks_are_escaped():
    assert escape_formula("=1+2") == "'=1+2"
    assert escape_formula("@cmd") == "'@cmd"
    assert escape_formula("-2+3") == "'-2+3"
    assert escape_formula("+1") == "'+1"


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "",
        "1=1",
        " =not first",
        "'=already quoted",
        "برنامج تقارب",
        5,
        -5,
        Decimal("-12.5"),
        -0.25,
        datetime.date(2025, 1, 1),
        None,
    ],
)
def test_anything_else_is_written_as_it_is(value):
    escaped = escape_formula(value)
    assert escaped == value
    assert type(escaped) is type(value)  # a negative number stays a number, not text


@pytest.mark.parametrize(
    "text",
    [start + "SUM(A1)" for start in FORMULA_STARTS] + ["plain", "'quoted", "'"],
    ids=[*START_NAMES, "plain", "quoted", "apostrophe"],
)
def test_unescape_gives_back_what_was_escaped(text):
    assert unescape_formula(escape_formula(text)) == text


def test_unescape_keeps_an_apostrophe_that_the_escape_did_not_add():
    assert unescape_formula("'plain") == "'plain"
    assert unescape_formula("it's") == "it's"
