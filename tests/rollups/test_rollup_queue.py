"""Stale marks and coalesced enqueueing (rollups/queue.py) against the real broker."""

from decimal import Decimal

import pytest
from django.db import transaction

from indicators.models import Result
from projects.signals import programme_scope_changed
from reporting.reports import report_version
from rollups import engine
from rollups.models import IndicatorRollupState
from rollups.queue import (
    latest_computed_at,
    pending_indicator_ids,
    schedule_alignment_recompute,
    schedule_cell_recompute,
    schedule_recompute,
)
from tests.factories import IndicatorFactory, MunicipalityFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

RECOMPUTE = "indicators.recompute_indicator_rollups"


def test_a_burst_of_ten_thousand_rows_yields_one_task_per_indicator(
    published_tasks, django_capture_on_commit_callbacks
):
    programme = ProgrammeFactory()
    first, second = IndicatorFactory.create_batch(2, programme=programme)
    towns = MunicipalityFactory.create_batch(50)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        rows = [
            Result(
                indicator=indicator,
                municipality=towns[n % 50],
                period_start=f"{2025 + n // 200}-{(n // 50) % 4 * 3 + 1:02d}-01",
                period_end=f"{2025 + n // 200}-{(n // 50) % 4 * 3 + 3:02d}-{[31, 30, 30, 31][(n // 50) % 4]}",
                value=Decimal(1),
                status=Result.Status.APPROVED,
            )
            for indicator in (first, second)
            for n in range(5000)
        ]
        Result.objects.bulk_create(rows, batch_size=2000)
        for row in rows:
            schedule_recompute(indicator_ids=[row.indicator_id])
    assert len(callbacks) == 1
    assert sorted(published_tasks) == [(RECOMPUTE, (first.id,)), (RECOMPUTE, (second.id,))]
    assert pending_indicator_ids([first.id, second.id]) == {first.id, second.id}
    assert IndicatorRollupState.objects.get(indicator=first).requested_version == 1


def test_a_rolled_back_transaction_enqueues_nothing_and_marks_nothing(
    published_tasks, django_capture_on_commit_callbacks
):
    indicator = IndicatorFactory()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            schedule_recompute(indicator_ids=[indicator.id])
            raise RuntimeError("the import failed")
        with transaction.atomic():  # a later transaction starts a fresh batch
            schedule_alignment_recompute()
    assert published_tasks == [("indicators.recompute_alignment", ())]
    assert pending_indicator_ids([indicator.id]) == set()


def test_a_rolled_back_savepoint_does_not_lose_the_outer_batch(published_tasks, django_capture_on_commit_callbacks):
    kept, dropped = IndicatorFactory.create_batch(2)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        schedule_recompute(indicator_ids=[kept.id])
        with pytest.raises(RuntimeError), transaction.atomic():
            schedule_recompute(indicator_ids=[dropped.id])
            raise RuntimeError
    assert (RECOMPUTE, (kept.id,)) in published_tasks
    assert pending_indicator_ids() == {kept.id}


def test_recompute_clears_pending_and_stamps_computed_at(django_capture_on_commit_callbacks):
    indicator = IndicatorFactory()
    version_before = report_version()
    with transaction.atomic():
        schedule_recompute(indicator_ids=[indicator.id])
    assert pending_indicator_ids() == {indicator.id}
    assert latest_computed_at([indicator.id]) is None
    engine.recompute_indicators([indicator.id])
    assert pending_indicator_ids() == set()
    assert latest_computed_at([indicator.id]) is not None
    assert report_version() != version_before


def test_a_cell_request_changes_the_report_version(django_capture_on_commit_callbacks):
    """Cached reports are keyed by the version: a pending cell must not hide behind an old key."""
    indicator, municipality = IndicatorFactory(), MunicipalityFactory()
    version_before = report_version()
    with transaction.atomic():
        schedule_cell_recompute(cells=[(indicator.id, municipality.id, "", "")])
    assert pending_indicator_ids() == {indicator.id}
    assert report_version() != version_before


def test_programme_scope_change_schedules_its_indicators_and_alignment(
    published_tasks, django_capture_on_commit_callbacks
):
    programme = ProgrammeFactory()
    indicators = IndicatorFactory.create_batch(3, programme=programme)
    IndicatorFactory()  # another programme's: untouched
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        programme_scope_changed.send(sender=None, programme_id=programme.id)
    assert pending_indicator_ids() == {indicator.id for indicator in indicators}
    assert sorted(args for name, args in published_tasks) == sorted((i.id,) for i in indicators)
