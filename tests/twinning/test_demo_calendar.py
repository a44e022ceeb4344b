"""The demo's dates move with today (seeds/00_calendar.yaml, `seed_demo.DemoCalendar`): by whole
quarters, fiscal years with them, so every period stays a period and the hand-worked numbers of
tests/reporting/test_demo_progress_to_date.py hold on the moved days."""

import datetime
import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from indicators import periods
from indicators.models import Result
from projects.access import access_for
from projects.models import Programme
from tests.reporting.test_demo_progress_to_date import AS_OF_IN_THE_FILES, EXPECTED_INDICATORS, iptt_rows, judged
from twinning.management.commands.seed_demo import (
    DemoCalendar,
    Seeder,
    add_months,
    default_seed_dir,
    demo_calendar,
    months_between,
)

D = datetime.date


def test_months_move_and_month_ends_stay_month_ends():
    assert add_months(D(2024, 10, 1), 3) == D(2025, 1, 1)
    assert add_months(D(2027, 9, 30), 3) == D(2027, 12, 31)
    assert add_months(D(2026, 6, 30), -4) == D(2026, 2, 28)
    assert add_months(D(2025, 6, 16), 12) == D(2026, 6, 16)
    assert add_months(D(2025, 1, 31), 1) == D(2025, 2, 28)
    assert months_between(D(2026, 10, 20), D(2026, 11, 30)) == 1
    assert months_between(D(2026, 10, 20), D(2027, 1, 19)) == 2
    assert months_between(D(2026, 10, 20), D(2027, 1, 20)) == 3
    assert months_between(D(2026, 10, 20), D(2026, 7, 21)) == -3
    assert months_between(D(2026, 10, 20), D(2026, 7, 19)) == -4
    assert months_between(D(2024, 10, 1), D(2024, 7, 1)) == -3


def test_the_files_day_moves_by_whole_quarters_and_never_past_today():
    written = D(2026, 10, 20)
    assert DemoCalendar.for_today(written, D(2026, 11, 30)).months == 0
    assert DemoCalendar.for_today(written, D(2027, 1, 20)).months == 3
    assert DemoCalendar.for_today(written, D(2028, 5, 1)).months == 18
    assert DemoCalendar.for_today(written, D(2026, 9, 1)).months == -3
    for today in (D(2026, 12, 31), D(2027, 4, 19), D(2029, 2, 28), D(2026, 1, 1)):
        calendar = DemoCalendar.for_today(written, today)
        assert calendar.moved(written) <= today < add_months(calendar.moved(written), 3)


def test_fiscal_years_move_with_the_periods():
    calendar = DemoCalendar(months=3)
    assert (calendar.fiscal_month(10), calendar.fiscal_month(1)) == (1, 4)
    assert DemoCalendar(months=-15).fiscal_month(10) == 7
    # A half-year of a fiscal year from October, moved, is a half-year of the moved fiscal year.
    start = calendar.moved(D(2025, 4, 1))
    assert periods.is_period(start, calendar.moved(D(2025, 9, 30)), "semiannual", calendar.fiscal_month(10))


@pytest.fixture(scope="module")
def seeded_a_quarter_earlier(django_db_setup, django_db_blocker):
    """The demo as a database first seeded a quarter before the files' day would hold it."""
    with django_db_blocker.unblock(), transaction.atomic():
        with translation.override("en"):
            Seeder(default_seed_dir(), DemoCalendar(months=-3)).run()
        call_command("recompute_rollups", no_progress=True, stdout=io.StringIO(), stderr=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def moved_demo(seeded_a_quarter_earlier, db):
    return access_for(get_user_model().objects.get(username="admin"))


def test_a_moved_demo_tells_the_same_progress_to_date_on_the_moved_day(moved_demo):
    calendar = demo_calendar(settings.BASE_DIR / "seeds")
    assert calendar.months == -3  # read back from the database: seeding it again keeps it
    taqarub = Programme.objects.get(code="TAQARUB")
    assert (taqarub.start_date, taqarub.end_date, taqarub.fiscal_year_start_month) == (
        D(2024, 7, 1),
        D(2027, 6, 30),
        7,
    )
    for result in Result.objects.select_related("indicator__programme"):
        programme = result.indicator.programme
        assert periods.is_period(
            result.period_start, result.period_end, result.indicator.frequency, programme.fiscal_year_start_month
        )
    as_of = calendar.moved(AS_OF_IN_THE_FILES)
    assert as_of == D(2026, 3, 31)
    rows = {
        (programme, code): row
        for programme in ("TAQARUB", "MSRP")
        for code, row in iptt_rows(moved_demo, programme, as_of).items()
    }
    assert {key: judged(rows[key]) for key in EXPECTED_INDICATORS} == EXPECTED_INDICATORS
