"""The daily refresh of progress to date (docs/rollups.md, "Progress to date"): when a period ends
and no result changes, only the to-date columns of the LoP rows it made stale move, to what a full
recompute as of that day gives, in a fixed number of statements."""

import random
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reporting.reports import report_version
from rollups import engine, tasks
from rollups.models import AlignmentSnapshot, IndicatorRollupState, Rollup
from tests.factories import IndicatorFactory, MunicipalityFactory, ResultFactory, TargetFactory
from tests.rollups.rollup_data import generate_programme
from tests.rollups.test_engine_matches_math import expected_cells, stored_cells

pytestmark = pytest.mark.django_db

COMPUTED_ON = date(2024, 6, 15)
REFRESHED_ON = date(2025, 2, 10)


def series_key(row) -> tuple:
    return (row.indicator_id, row.scope, row.scope_id, row.disaggregation_category, row.disaggregation_option)


def test_the_refresh_gives_what_a_recompute_on_that_day_gives_and_dates_only_what_it_refreshed():
    generated = generate_programme(random.Random(11), municipalities=3, periods=8)
    ids = [item.spec.id for item in generated.indicators]
    engine.recompute_indicators(ids, as_of=COMPUTED_ON)
    ended_between = {
        series_key(row)
        for row in Rollup.objects.filter(indicator_id__in=ids, period_end__gt=COMPUTED_ON, period_end__lte=REFRESHED_ON)
    }
    before = {row.pk: row for row in Rollup.objects.filter(indicator_id__in=ids)}

    moved = engine.refresh_progress_to_date(as_of=REFRESHED_ON)

    for item in generated.indicators:
        assert stored_cells(item.spec.id) == expected_cells(item, generated.twinning_members, as_of=REFRESHED_ON)
    after = {row.pk: row for row in Rollup.objects.filter(indicator_id__in=ids)}
    assert after.keys() == before.keys()  # no row added or removed: results did not change
    lop = [pk for pk, row in after.items() if row.period_start is None]
    assert {pk for pk in lop if after[pk].as_of == REFRESHED_ON} == {
        pk for pk in lop if series_key(after[pk]) in ended_between
    }
    assert {after[pk].as_of for pk in lop if series_key(after[pk]) not in ended_between} == {COMPUTED_ON}
    changed = {
        pk
        for pk in lop
        if (after[pk].target_to_date, after[pk].percent_to_date, after[pk].status_to_date)
        != (before[pk].target_to_date, before[pk].percent_to_date, before[pk].status_to_date)
    }
    assert moved == len(changed) > 0
    assert {pk for pk in after if after[pk].computed_at != before[pk].computed_at} == changed
    # The same day again: nothing is stale any more.
    assert engine.refresh_progress_to_date(as_of=REFRESHED_ON) == 0
    assert {row.pk: row.computed_at for row in Rollup.objects.filter(indicator_id__in=ids)} == {
        pk: row.computed_at for pk, row in after.items()
    }


def refresh_queries(as_of) -> int:
    with CaptureQueriesContext(connection) as captured:
        engine.refresh_progress_to_date(as_of=as_of)
    return len(captured.captured_queries)


def test_the_refresh_costs_the_same_statements_for_one_indicator_and_for_many():
    one = generate_programme(random.Random(2), municipalities=2, periods=4, indicators=2)
    engine.recompute_indicators([item.spec.id for item in one.indicators], as_of=COMPUTED_ON)
    small = refresh_queries(REFRESHED_ON)
    many = generate_programme(random.Random(3), municipalities=5, periods=8, indicators=8)
    engine.recompute_indicators([item.spec.id for item in many.indicators], as_of=COMPUTED_ON)
    assert refresh_queries(REFRESHED_ON) == small
    assert refresh_queries(REFRESHED_ON) < small  # nothing stale: it stops after looking


def test_rows_stored_before_progress_to_date_existed_are_filled_in():
    generated = generate_programme(random.Random(5), municipalities=2, periods=4, indicators=3)
    ids = [item.spec.id for item in generated.indicators]
    engine.recompute_indicators(ids, as_of=REFRESHED_ON)
    Rollup.objects.filter(indicator_id__in=ids, period_start__isnull=True).update(
        target_to_date=None, percent_to_date=None, status_to_date=None, as_of=None
    )
    engine.refresh_progress_to_date(as_of=REFRESHED_ON)
    for item in generated.indicators:
        assert stored_cells(item.spec.id) == expected_cells(item, generated.twinning_members, as_of=REFRESHED_ON)


@pytest.fixture
def quarter_ended_yesterday():
    """An indicator with a programme-wide target of 50 in two quarters of 2026, 45 reported in the
    first and 30 in the second, computed when only the first had ended (on track, 90 %)."""
    today = timezone.localdate()
    indicator = IndicatorFactory()
    town = MunicipalityFactory()
    for start, end, value in ((date(2026, 1, 1), date(2026, 3, 31), 45), (date(2026, 4, 1), date(2026, 6, 30), 30)):
        TargetFactory(indicator=indicator, period_start=start, period_end=end, value=Decimal(50))
        ResultFactory(
            indicator=indicator, municipality=town, period_start=start, period_end=end, value=Decimal(value),
            status="approved",
        )  # fmt: skip
    engine.recompute_indicators([indicator.id], as_of=date(2026, 4, 1))
    assert today > date(2026, 6, 30)
    return indicator


def test_the_daily_task_refreshes_then_asks_for_the_alignment_snapshot(quarter_ended_yesterday, published_tasks):
    indicator = quarter_ended_yesterday
    lop = Rollup.objects.get(indicator=indicator, scope="programme", period_start__isnull=True)
    assert (lop.target_to_date, lop.percent_to_date, lop.status_to_date) == (Decimal(50), Decimal(90), "on_track")
    version = report_version()
    computed_at = IndicatorRollupState.objects.get(indicator=indicator).computed_at

    assert tasks.refresh_progress_to_date() == 1  # the municipality's has no target: still no_target

    lop.refresh_from_db()
    # 45 + 30 of 50 + 50: 75 %, below target to date; the LoP row itself did not move.
    assert (lop.target_to_date, lop.percent_to_date, lop.status_to_date) == (Decimal(100), Decimal(75), "below")
    assert lop.as_of == timezone.localdate()
    assert IndicatorRollupState.objects.get(indicator=indicator).computed_at > computed_at
    assert report_version() != version  # no cached report keeps the old numbers
    assert AlignmentSnapshot.objects.get().pending
    assert [name for name, _args in published_tasks] == ["indicators.recompute_alignment"]
    assert tasks.refresh_progress_to_date() == 0  # a second delivery the same day does nothing
    assert len(published_tasks) == 1


def test_the_refresh_runs_daily_on_the_rollup_queue():
    (entry,) = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == tasks.REFRESH_PROGRESS_TO_DATE_TASK
    ]
    assert entry["schedule"].remaining_estimate(timezone.now()).total_seconds() <= 24 * 3600
    assert tasks.refresh_progress_to_date.name == "indicators.refresh_progress_to_date"
    assert settings.CELERY_TASK_ROUTES[tasks.REFRESH_PROGRESS_TO_DATE_TASK] == {"queue": settings.CELERY_ROLLUP_QUEUE}


def test_the_refresh_reaches_the_rollup_queue_however_it_is_sent():
    """Routed like the other rollup tasks, so a refresh sent by hand (or by a beat entry without
    options) lands where the rollup worker listens, not on the default queue."""
    router = tasks.refresh_progress_to_date.app.amqp.router
    assert router.route({}, tasks.REFRESH_PROGRESS_TO_DATE_TASK)["queue"].name == settings.CELERY_ROLLUP_QUEUE
    assert router.route({}, "indicators.recompute_alignment")["queue"].name == settings.CELERY_ROLLUP_QUEUE
