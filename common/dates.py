"""The dates a record may carry (pure: no Django import).

Wide enough for any baseline, deadline or reporting period a municipal programme has; narrow
enough that every period of a date in it can be computed (a period containing 9999-12-31 would
end in the year 10000, which `date` cannot hold) and that a typo such as 0202 for 2020 is caught.
"""

from datetime import date

EARLIEST_DATE = date(1950, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def in_date_range(day: date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE
