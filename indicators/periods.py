"""Reporting periods (docs/design.md §4): pure date arithmetic, no Django.

A period of frequency F is a run of 1, 3, 6 or 12 months that starts on a month counted from the
programme's fiscal-year start month. With an October start, quarters run Oct–Dec, Jan–Mar, Apr–Jun
and Jul–Sep; half-years Oct–Mar and Apr–Sep; years Oct–Sep.
"""

from datetime import date, timedelta

from common.dates import EARLIEST_DATE, LATEST_DATE, in_date_range

MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}

NEARBY_PERIODS = 3

Period = tuple[date, date]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _first_of(month_index: int) -> date:
    return date(month_index // 12, month_index % 12 + 1, 1)


def period_containing(day: date, frequency: str, fiscal_year_start_month: int) -> Period:
    """The period of `frequency` that contains `day`."""
    step = MONTHS_PER_PERIOD[frequency]
    index = _month_index(day)
    start_index = index - (index - (fiscal_year_start_month - 1)) % step
    return _first_of(start_index), _first_of(start_index + step) - timedelta(days=1)


def is_period(start: date, end: date, frequency: str, fiscal_year_start_month: int) -> bool:
    """True when start..end is exactly one period of `frequency` (within the date range)."""
    if not (in_date_range(start) and in_date_range(end)):
        return False
    return period_containing(start, frequency, fiscal_year_start_month) == (start, end)


def periods_between(first: date, last: date, frequency: str, fiscal_year_start_month: int) -> list[Period]:
    """Every period that overlaps first..last, in order."""
    periods: list[Period] = []
    if last < first:
        return periods
    start, end = period_containing(first, frequency, fiscal_year_start_month)
    while start <= last:
        periods.append((start, end))
        start, end = period_containing(end + timedelta(days=1), frequency, fiscal_year_start_month)
    return periods


def nearest_periods(start: date, end: date, frequency: str, fiscal_year_start_month: int) -> list[Period]:
    """The valid periods that a mistaken start..end most likely meant (for error messages): the
    period containing the earlier date and the next ones up to the later date, at most
    NEARBY_PERIODS of them. Computed one period at a time, so a start in year 1 and an end in
    9999 cost no more than two nearby dates; dates outside the range are brought into it."""
    low = min(max(min(start, end), EARLIEST_DATE), LATEST_DATE)
    high = min(max(max(start, end), EARLIEST_DATE), LATEST_DATE)
    periods: list[Period] = []
    period_start, period_end = period_containing(low, frequency, fiscal_year_start_month)
    while period_start <= high and len(periods) < NEARBY_PERIODS:
        periods.append((period_start, period_end))
        if period_end >= LATEST_DATE:
            break
        period_start, period_end = period_containing(period_end + timedelta(days=1), frequency, fiscal_year_start_month)
    return periods
