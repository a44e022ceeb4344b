"""The minute job that sends again the recomputes lost while Redis was down (`rollups.requeue_stale`).

Published tasks really go to Redis, on the test's own queue (see conftest)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rollups import queue, tasks
from rollups.models import AlignmentSnapshot, IndicatorRollupState, RollupCellRequest
from tests.factories import IndicatorFactory, MunicipalityFactory
from twinning.celery import app

pytestmark = pytest.mark.django_db

GRACE = timedelta(minutes=2)


def requested_minutes_ago(minutes, *, full=(), cells=()):
    """Recomputes requested `minutes` ago whose tasks never reached the broker."""
    when = timezone.now() - timedelta(minutes=minutes)
    queue.mark_indicators_stale([indicator.id for indicator in full])
    IndicatorRollupState.objects.filter(indicator__in=full).update(dirty_since=when)
    queue.record_cell_requests([(indicator.id, town.id, "", "") for indicator, town in cells])
    RollupCellRequest.objects.filter(indicator__in=[indicator for indicator, _ in cells]).update(requested_at=when)


def sent_indicators(published):
    return sorted(args[0] for name, args in published if name == queue.RECOMPUTE_INDICATOR_TASK)


def test_only_requests_older_than_the_grace_are_sent_again(published_tasks):
    lost_full, lost_cell, recent = IndicatorFactory.create_batch(3)
    town = MunicipalityFactory()
    requested_minutes_ago(10, full=[lost_full], cells=[(lost_cell, town)])
    requested_minutes_ago(0, full=[recent])

    assert queue.requeue_stale(older_than=GRACE) == sorted([lost_full.id, lost_cell.id])
    assert sent_indicators(published_tasks) == sorted([lost_full.id, lost_cell.id])


def test_sending_again_is_idempotent_while_the_tasks_wait(published_tasks):
    lost = IndicatorFactory()
    requested_minutes_ago(10, full=[lost])
    assert queue.requeue_stale(older_than=GRACE) == [lost.id]
    # The next minute: the task sent is still queued (no worker yet), so nothing is sent twice.
    assert queue.requeue_stale(older_than=GRACE) == []
    assert sent_indicators(published_tasks) == [lost.id]


def test_a_lost_alignment_request_alone_is_sent_again(published_tasks):
    queue.mark_alignment_stale()
    AlignmentSnapshot.objects.filter(pk=1).update(dirty_since=timezone.now() - timedelta(minutes=10))
    assert tasks.requeue_stale() == 0
    assert [name for name, _ in published_tasks] == [queue.RECOMPUTE_ALIGNMENT_TASK]


def test_nothing_stale_sends_nothing(published_tasks, django_capture_on_commit_callbacks):
    indicator = IndicatorFactory()
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        queue.schedule_recompute(indicator_ids=[indicator.id])  # its task is on its way
    assert tasks.requeue_stale() == 0
    assert published_tasks == []


def test_beat_runs_it_every_minute_on_the_rollup_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["requeue-stale-rollups"]
    assert entry["task"] == queue.REQUEUE_STALE_TASK == tasks.requeue_stale.name
    assert entry["schedule"] == 60.0
    assert settings.ROLLUP_REQUEUE_GRACE_SECONDS == 120
    assert settings.CELERY_TASK_ROUTES[queue.REQUEUE_STALE_TASK]["queue"] == settings.CELERY_ROLLUP_QUEUE
    assert queue.REQUEUE_STALE_TASK in app.tasks
