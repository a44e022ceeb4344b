"""The result grid's number cells carry the indicator's bounds and whole-number rule, so the
browser refuses what the server would (docs/design.md §4 "What a result may hold")."""

import re
from decimal import Decimal

import pytest

from indicators import services as indicator_services

from .test_result_entry import grid_url

pytestmark = pytest.mark.django_db


def cell(html: str, name: str) -> str:
    match = re.search(rf'<input type="text"[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match, f"no input {name}"
    return match.group(0)


def attribute(tag: str, name: str) -> str | None:
    match = re.search(rf' {name}="([^"]*)"', tag)
    return match.group(1) if match else None


def test_cells_carry_the_indicators_bounds_and_whole_numbers(world, client_for):
    indicator_services.indicator_update(
        indicator=world.indicators["p1"], value_min=Decimal("-10"), value_max=Decimal("50.5"), whole_numbers=True
    )
    html = client_for("municipality_x_editor").get(grid_url(world)).content.decode()
    for name in ("total-value", "sex.female-value"):
        tag = cell(html, name)
        assert attribute(tag, "data-min") == "-10"
        assert attribute(tag, "data-max") == "50.5"
        pattern = re.compile(attribute(tag, "pattern"))
        assert pattern.fullmatch("-7") and pattern.fullmatch("٤٢")
        assert not pattern.fullmatch("12.5"), "whole numbers only"
        assert attribute(tag, "data-error") == "Enter a whole number: this indicator counts whole units."
        assert attribute(tag, "data-range-error") == "Enter a value between -10 and 50.5."
        assert attribute(tag, "inputmode") == "decimal"  # the numeric keypad has no minus sign


def test_without_bounds_of_its_own_a_number_is_at_least_zero_and_may_have_a_fraction(world, client_for):
    html = client_for("municipality_x_editor").get(grid_url(world)).content.decode()
    tag = cell(html, "total-value")
    assert attribute(tag, "data-min") == "0" and attribute(tag, "data-max") is None
    pattern = re.compile(attribute(tag, "pattern"))
    assert pattern.fullmatch("12.5") and pattern.fullmatch("١٢٫٥")
    assert not pattern.fullmatch("-1")
    assert attribute(tag, "data-range-error") == "Enter a value of at least 0."


def test_whole_non_negative_cells_get_the_numeric_keypad_in_arabic_too(world, client_for):
    indicator_services.indicator_update(indicator=world.indicators["p1"], value_max=Decimal("100"), whole_numbers=True)
    html = client_for("municipality_x_editor").get(grid_url(world, language="ar")).content.decode()
    tag = cell(html, "total-value")
    assert attribute(tag, "inputmode") == "numeric"
    assert attribute(tag, "data-min") == "0" and attribute(tag, "data-max") == "100"
    assert attribute(tag, "dir") == "ltr"
