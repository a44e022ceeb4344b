"""Text cells that a spreadsheet must not run as formulas (CSV and formula injection).

A spreadsheet reads a cell that begins with `=`, `+`, `-` or `@` as a formula, and some also do
when a tab, carriage return, line feed or NUL comes first (OWASP's CSV Injection guidance and
its ASVS list these). Every text cell we write to a CSV or a workbook goes through `escape_formula`,
which puts a leading apostrophe before such text; numbers, dates and None are written as they
are, so a negative number stays a number. `unescape_formula` undoes exactly that on import.
"""

from typing import Any

from common.text import exportable

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
ESCAPE = "'"


def escape_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, with a leading apostrophe; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return ESCAPE + value
    return value


def unescape_formula(text: str) -> str:
    """The text `escape_formula` was given: the apostrophe it added is dropped, any other kept."""
    if text.startswith(ESCAPE) and text[len(ESCAPE) :].startswith(FORMULA_PREFIXES):
        return text[len(ESCAPE) :]
    return text


def spreadsheet_cell(value: Any) -> Any:
    """A value as a workbook or CSV cell holds it: control characters that XLSX cannot store are
    dropped (text saved before they were refused must not break a download), then formulas are
    escaped."""
    return escape_formula(exportable(value))
