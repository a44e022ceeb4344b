"""The Celery tasks' own logic, called directly (the broker path is in test_worker_rollups.py)."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from indicators.models import Result
from rollups import engine, tasks
from rollups.models import AlignmentSnapshot, IndicatorRollupState, Rollup, RollupCellRequest
from rollups.queue import mark_indicators_stale, pending_indicator_ids, schedule_cell_recompute
from tests.factories import IndicatorFactory, ResultFactory

pytestmark = pytest.mark.django_db


def lop_total(indicator):
    return Rollup.objects.get(indicator=indicator, scope="programme", period_start__isnull=True)


def test_reconcile_repairs_and_logs_the_rows_it_corrected(caplog):
    result = ResultFactory(status="approved", value=Decimal(7))
    engine.recompute_all()
    Rollup.objects.filter(indicator=result.indicator, scope="municipality").delete()  # a lost task
    lop = lop_total(result.indicator)
    lop.actual = Decimal(1)
    lop.save()
    with caplog.at_level(logging.INFO, logger="rollups.tasks"):
        corrected = tasks.reconcile_rollups()
    assert corrected == 3  # two municipality rows recreated, one programme row fixed
    assert lop_total(result.indicator).actual == Decimal(7)
    assert "3 rows corrected" in caplog.text
    with caplog.at_level(logging.INFO, logger="rollups.tasks"):
        assert tasks.reconcile_rollups() == 0
    assert "0 rows corrected" in caplog.text


def test_indicator_task_recomputes_cells_then_ignores_a_duplicate(
    django_capture_on_commit_callbacks, rollup_queue_name
):
    result = ResultFactory(status="approved", value=Decimal(7))
    indicator = result.indicator
    assert tasks.recompute_indicator_rollups(indicator.id) > 0  # first time: the whole indicator
    Result.objects.filter(pk=result.pk).update(value=Decimal(9))
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        schedule_cell_recompute(cells=[(indicator.id, result.municipality_id, "", "")])
    assert RollupCellRequest.objects.filter(indicator=indicator).exists()
    assert tasks.recompute_indicator_rollups(indicator.id) > 0
    assert lop_total(indicator).actual == Decimal(9)
    assert tasks.recompute_indicator_rollups(indicator.id) == 0  # delivered twice: nothing left
    assert pending_indicator_ids() == set()


def test_alignment_waits_for_recent_requests_but_not_for_lost_ones():
    waiting, lost = IndicatorFactory.create_batch(2)
    mark_indicators_stale([waiting.id])
    assert tasks.recompute_alignment() is False  # its indicator task is still expected
    engine.recompute_indicators([waiting.id])
    mark_indicators_stale([lost.id])
    IndicatorRollupState.objects.filter(indicator=lost).update(dirty_since=timezone.now() - timedelta(hours=2))
    assert tasks.recompute_alignment() is True  # Redis lost that task: do not wait for it
    assert AlignmentSnapshot.objects.get().computed_at is not None
    assert pending_indicator_ids() == {lost.id}  # still marked, for the reconcile


def test_rollup_tasks_have_their_queue_and_the_nightly_reconcile_is_scheduled():
    for name in (
        "indicators.recompute_indicator_rollups",
        "indicators.recompute_alignment",
        "indicators.reconcile_rollups",
    ):
        assert settings.CELERY_TASK_ROUTES[name] == {"queue": settings.CELERY_ROLLUP_QUEUE}
    assert settings.CELERY_BEAT_SCHEDULE["reconcile-rollups-nightly"]["task"] == "indicators.reconcile_rollups"
    assert tasks.recompute_indicator_rollups.acks_late and tasks.recompute_indicator_rollups.reject_on_worker_lost
