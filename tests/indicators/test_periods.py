"""Reporting periods follow the indicator's frequency and the programme's fiscal year (docs/design.md §4)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from indicators import periods
from indicators.services import target_set
from tests.factories import IndicatorFactory, ProgrammeFactory

D = datetime.date

# (frequency, fiscal-year start month, a valid period, an invalid one)
CASES = [
    ("monthly", 1, (D(2025, 2, 1), D(2025, 2, 28)), (D(2025, 2, 2), D(2025, 3, 1))),
    ("monthly", 10, (D(2025, 10, 1), D(2025, 10, 31)), (D(2025, 10, 1), D(2025, 11, 30))),
    ("quarterly", 1, (D(2025, 4, 1), D(2025, 6, 30)), (D(2025, 2, 1), D(2025, 4, 30))),
    ("quarterly", 10, (D(2025, 10, 1), D(2025, 12, 31)), (D(2025, 11, 1), D(2026, 1, 31))),
    ("semiannual", 1, (D(2025, 7, 1), D(2025, 12, 31)), (D(2025, 4, 1), D(2025, 9, 30))),
    ("semiannual", 10, (D(2025, 10, 1), D(2026, 3, 31)), (D(2025, 7, 1), D(2025, 12, 31))),
    ("annual", 1, (D(2025, 1, 1), D(2025, 12, 31)), (D(2024, 10, 1), D(2025, 9, 30))),
    ("annual", 10, (D(2024, 10, 1), D(2025, 9, 30)), (D(2025, 1, 1), D(2025, 12, 31))),
]


@pytest.mark.parametrize(("frequency", "month", "valid", "invalid"), CASES)
def test_valid_and_invalid_periods(frequency, month, valid, invalid):
    assert periods.is_period(*valid, frequency, month)
    assert not periods.is_period(*invalid, frequency, month)


def test_october_quarters_run_october_to_december():
    assert periods.period_containing(D(2025, 11, 15), "quarterly", 10) == (D(2025, 10, 1), D(2025, 12, 31))


def test_leap_february_ends_on_the_29th():
    assert periods.period_containing(D(2024, 2, 10), "monthly", 1) == (D(2024, 2, 1), D(2024, 2, 29))


@given(
    day=st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)),
    frequency=st.sampled_from(list(periods.MONTHS_PER_PERIOD)),
    month=st.integers(min_value=1, max_value=12),
)
def test_every_day_lies_in_exactly_one_period(day, frequency, month):
    start, end = periods.period_containing(day, frequency, month)
    assert start <= day <= end
    assert start.day == 1
    assert periods.is_period(start, end, frequency, month)
    assert (start.month - month) % periods.MONTHS_PER_PERIOD[frequency] == 0
    following = periods.period_containing(end + datetime.timedelta(days=1), frequency, month)
    assert following[0] == end + datetime.timedelta(days=1)


def test_periods_between_covers_a_range_without_gaps():
    quarters = periods.periods_between(D(2025, 11, 5), D(2026, 8, 1), "quarterly", 10)
    assert quarters == [
        (D(2025, 10, 1), D(2025, 12, 31)),
        (D(2026, 1, 1), D(2026, 3, 31)),
        (D(2026, 4, 1), D(2026, 6, 30)),
        (D(2026, 7, 1), D(2026, 9, 30)),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("frequency", "month", "valid", "invalid"), CASES)
def test_services_accept_only_whole_periods(frequency, month, valid, invalid):
    indicator = IndicatorFactory(frequency=frequency, programme=ProgrammeFactory(fiscal_year_start_month=month))
    target_set(indicator=indicator, period_start=valid[0], period_end=valid[1], value=10)
    with pytest.raises(ValidationError) as raised:
        target_set(indicator=indicator, period_start=invalid[0], period_end=invalid[1], value=10)
    message = " ".join(raised.value.message_dict["period_start"])
    assert f"is not a {frequency.replace('semiannual', 'semi-annual')} period" in message
    assert "Valid periods nearby" in message
    assert indicator.targets.count() == 1


@pytest.mark.django_db
def test_the_error_names_the_valid_october_quarters():
    indicator = IndicatorFactory(frequency="quarterly", programme=ProgrammeFactory(fiscal_year_start_month=10))
    with pytest.raises(ValidationError) as raised:
        target_set(indicator=indicator, period_start=D(2025, 11, 1), period_end=D(2026, 1, 31), value=5)
    message = raised.value.message_dict["period_start"][0]
    assert "October" in message
    assert "2025-10-01 – 2025-12-31" in message
    assert "2026-01-01 – 2026-03-31" in message


def test_nearby_periods_of_far_apart_dates_are_few_and_computed_directly():
    """A start in year 1 and an end in 9999 once built every quarter in between (40,000 of them)
    for an error message that shows three."""
    nearby = periods.nearest_periods(D(1, 1, 1), D(9999, 12, 31), "monthly", 1)
    assert nearby == [
        (D(1950, 1, 1), D(1950, 1, 31)),
        (D(1950, 2, 1), D(1950, 2, 28)),
        (D(1950, 3, 1), D(1950, 3, 31)),
    ]
    assert periods.nearest_periods(D(2026, 2, 3), D(2026, 2, 10), "quarterly", 10) == [(D(2026, 1, 1), D(2026, 3, 31))]


def test_the_last_day_that_date_can_hold_is_not_a_period_and_does_not_crash():
    assert not periods.is_period(D(9999, 10, 1), D(9999, 12, 31), "quarterly", 1)
    assert periods.nearest_periods(D(9999, 12, 31), D(9999, 12, 31), "annual", 10) == [(D(2100, 10, 1), D(2101, 9, 30))]


@pytest.mark.django_db
@pytest.mark.parametrize("start, end", [(D(9999, 10, 1), D(9999, 12, 31)), (D(1, 1, 1), D(1, 3, 31))])
def test_a_target_dated_outside_the_supported_range_is_a_field_error(start, end):
    indicator = IndicatorFactory(frequency="quarterly")
    with pytest.raises(ValidationError) as caught:
        target_set(indicator=indicator, municipality=None, period_start=start, period_end=end, value=5)
    message = " ".join(caught.value.message_dict["period_start"])
    assert "1950" in message and "2100" in message
