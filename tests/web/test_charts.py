"""The donor dashboard's charts: periods named as people name them, a value axis of round steps."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from web.charts import period_label, target_actual_chart, value_ticks


@pytest.mark.parametrize(
    ("language", "start", "end", "frequency", "fiscal_start", "expected"),
    [
        ("en", date(2025, 10, 1), date(2025, 12, 31), "quarterly", 10, "Q1 FY26"),
        ("ar", date(2025, 10, 1), date(2025, 12, 31), "quarterly", 10, "الربع الأول 2026"),
        ("en", date(2026, 1, 1), date(2026, 3, 31), "quarterly", 1, "Q1 FY26"),
        ("ar", date(2026, 7, 1), date(2026, 9, 30), "quarterly", 10, "الربع الرابع 2026"),
        ("en", date(2026, 4, 1), date(2026, 9, 30), "semiannual", 10, "H2 FY26"),
        ("ar", date(2025, 10, 1), date(2026, 9, 30), "annual", 10, "السنة المالية 2026"),
        ("en", date(2026, 2, 1), date(2026, 2, 28), "monthly", 1, "Feb 2026"),
        ("ar", date(2026, 2, 1), date(2026, 2, 28), "monthly", 1, "فبراير 2026"),
    ],
)
def test_a_period_is_named_by_the_programme_fiscal_year(language, start, end, frequency, fiscal_start, expected):
    with translation.override(language):
        assert period_label(start, end, frequency=frequency, fiscal_year_start_month=fiscal_start) == expected


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        ("61", [0, 20, 40, 60, 80]),
        ("100", [0, 20, 40, 60, 80, 100]),
        ("4500000", [0, 1000000, 2000000, 3000000, 4000000, 5000000]),
        ("0.7", [0, "0.2", "0.4", "0.6", "0.8", 1]),  # the axis reaches at least 1
        ("7", [0, 2, 4, 6, 8]),
    ],
)
def test_the_value_axis_has_three_to_five_round_steps(top, ticks):
    found = value_ticks(Decimal(top))
    assert found == [Decimal(str(t)) for t in ticks]
    assert 3 <= len(found) - 1 <= 5 and found[-1] >= Decimal(top)


def test_arabic_charts_run_right_to_left_with_the_target_line_through_every_target():
    points = [("Q1", Decimal(10), Decimal(5), "below"), ("Q2", Decimal(20), None, "no_data")]
    ltr = target_actual_chart(points, rtl=False)
    rtl = target_actual_chart(points, rtl=True)
    assert ltr["bars"][0].centre < ltr["bars"][1].centre
    assert rtl["bars"][0].centre > rtl["bars"][1].centre
    assert len(rtl["target_points"].split()) == 2
    assert ltr["font_size"] >= 11
