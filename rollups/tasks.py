"""Celery tasks of the rollup engine: thin, take ids, idempotent (docs/design.md §2).

All run on the `rollups` queue (settings.CELERY_TASK_ROUTES). They recompute from source, so a
retry, a duplicate delivery or a redelivery after a worker died mid-task does no harm:
`acks_late` + `reject_on_worker_lost` make the broker redeliver a task whose worker was killed,
and the per-indicator advisory lock in `engine.recompute_indicators` keeps two workers from
interleaving writes for one indicator. `BoundedDeliveryTask` stops the redeliveries of work that
kills its worker every time; the time limits come from settings unless a task sets its own.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from common.deliveries import BoundedDeliveryTask
from rollups import alignment, engine
from rollups import queue as rollup_queue
from rollups.models import Rollup

logger = logging.getLogger(__name__)

ALIGNMENT_WAITS_FOR = timedelta(minutes=10)
# Errors worth retrying: the database or the broker went away for a moment.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerError, ConnectionError)
RETRY_OPTIONS = {
    "base": BoundedDeliveryTask,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(name=rollup_queue.RECOMPUTE_INDICATOR_TASK, **RETRY_OPTIONS)
def recompute_indicator_rollups(indicator_id: int) -> int:
    """Recompute one indicator's rollups; then schedule the alignment snapshot after them.

    A full recompute when one was requested (or the indicator has no rollups yet); otherwise only
    the cells whose results changed (`RollupCellRequest`). Returns the number of rows corrected.
    A duplicate delivery finds nothing left to take and does nothing.
    """
    full_pending = rollup_queue.pending_indicators_queryset([indicator_id]).exists()
    if full_pending or not _has_rollups(indicator_id):
        summary = engine.recompute_indicators([indicator_id])
    else:
        summary = engine.recompute_requested_cells(indicator_id)  # nothing to take: a duplicate
    if summary.indicators == 0:
        return 0
    if summary.rows_corrected:
        rollup_queue.mark_alignment_stale()
    if rollup_queue.alignment_pending():
        rollup_queue.enqueue(alignment=True)
    return summary.rows_corrected


@shared_task(name=rollup_queue.RECOMPUTE_ALIGNMENT_TASK, **RETRY_OPTIONS)
def recompute_alignment() -> bool:
    """Rewrite the stored every-programme alignment snapshot once its indicators are up to date.

    While some indicator still has a recompute pending, its own task will enqueue this again,
    so this one stops (alignment runs after the rollups it depends on). Requests older than
    ALIGNMENT_WAITS_FOR are taken as lost (their task never came: Redis was down) and not waited
    for; the reconcile repairs them.
    """
    recent = timezone.now() - ALIGNMENT_WAITS_FOR
    if rollup_queue.pending_indicator_ids(requested_after=recent):
        return False
    written, _ = alignment.store_global_snapshot()
    return written


# The reconcile recomputes everything: more time than the other tasks, still below the broker's
# visibility timeout.
RECONCILE_TIME_LIMITS = {"soft_time_limit": 30 * 60, "time_limit": 32 * 60}


@shared_task(name=rollup_queue.RECONCILE_TASK, **RETRY_OPTIONS, **RECONCILE_TIME_LIMITS)
def reconcile_rollups() -> int:
    """Nightly: recompute every indicator from source and the alignment snapshot; log corrections.

    Rows corrected should be 0: anything else means a recompute was lost (e.g. Redis was down).
    """
    summary = engine.recompute_all()
    alignment.force_global_snapshot()
    log = logger.warning if summary.rows_corrected else logger.info
    log(
        "Rollup reconcile: %d indicators, %d rows checked, %d rows corrected in %.1f s",
        summary.indicators,
        summary.rows_written,
        summary.rows_corrected,
        summary.seconds,
    )
    return summary.rows_corrected


@shared_task(
    name=rollup_queue.REQUEUE_STALE_TASK,
    base=BoundedDeliveryTask,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=30,
    time_limit=60,
)
def requeue_stale() -> int:
    """Every minute (beat): send again the recomputes lost while Redis was down, so the rollups
    catch up minutes after Redis returns instead of at the nightly reconcile. Returns how many."""
    grace = timedelta(seconds=settings.ROLLUP_REQUEUE_GRACE_SECONDS)
    return len(rollup_queue.requeue_stale(older_than=grace))


def _has_rollups(indicator_id: int) -> bool:
    return Rollup.objects.filter(indicator_id=indicator_id).exists()


# The Celery name of the daily progress-to-date refresh (the beat schedule matches on it).
REFRESH_PROGRESS_TO_DATE_TASK = "indicators.refresh_progress_to_date"


@shared_task(name=REFRESH_PROGRESS_TO_DATE_TASK, **RETRY_OPTIONS)
def refresh_progress_to_date() -> int:
    """Daily: the progress to date of the LoP rows whose series had a period end since it was
    computed (no result changed, so nothing else would recompute it); then the alignment snapshot,
    whose progress to date rests on it. Returns the rows whose numbers moved; a second run the same
    day finds nothing to do."""
    moved = engine.refresh_progress_to_date()
    if moved:
        rollup_queue.mark_alignment_stale()
        rollup_queue.enqueue(alignment=True)
    return moved
