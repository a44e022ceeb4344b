"""Marks rollups stale and schedules their recompute (docs/design.md §2 tasks, docs/rollups.md §3).

Services call `schedule_recompute` / `schedule_alignment_recompute` inside their transaction:

1. The first call for an indicator in a transaction bumps its `IndicatorRollupState.requested_version`
   (one upsert), so "pending" is true as soon as the write commits, and stays true if the task is
   never delivered (Redis down): `manage.py recompute_rollups` or the nightly reconcile fix it.
2. One `transaction.on_commit` callback per transaction enqueues one task per indicator
   (`rollups.tasks.recompute_indicator_rollups`), however many calls were made: a bulk import
   of 10,000 results in one transaction yields one task per indicator. A rollback enqueues nothing.
3. If the broker cannot be reached, the error is logged and swallowed: the user's write has
   committed and must not fail; the dirty mark is what guarantees the later repair.

`schedule_cell_recompute` is the fast path for the common write — one result's value or status
changed: it records the (indicator, municipality, disaggregation) cells, and the task then
recomputes only the rollup groups that depend on them (that municipality, its twinnings and the
programme, for that disaggregation) instead of the whole indicator. More than
`MAX_CELLS_PER_INDICATOR` cells of one indicator in one transaction escalate to a full recompute.

Readers use `pending_indicator_ids` and `latest_computed_at` (and `reports.report_version`, which
changes with every request and recompute).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from common.sql import quoted_names
from indicators.models import Indicator
from rollups.models import AlignmentSnapshot, IndicatorRollupState, RollupCellRequest

logger = logging.getLogger(__name__)

# The Celery names of the rollup tasks (kept from before the app moved, so routes and beat
# schedules written against them still match).
RECOMPUTE_INDICATOR_TASK = "indicators.recompute_indicator_rollups"
RECOMPUTE_ALIGNMENT_TASK = "indicators.recompute_alignment"
RECONCILE_TASK = "indicators.reconcile_rollups"
REQUEUE_STALE_TASK = "rollups.requeue_stale"

_BATCH_ATTRIBUTE = "_rollup_schedule_batch"
MAX_CELLS_PER_INDICATOR = 20

Cell = tuple[int, int, str, str]  # (indicator id, municipality id, category, option); ("", "") = total


class _Batch:
    """The indicators (and whether alignment) scheduled in one transaction of one connection."""

    def __init__(self) -> None:
        self.indicator_ids: set[int] = set()  # full recompute requested
        self.cells: dict[int, set[tuple[int, str, str]]] = {}  # indicator -> cells requested
        self.alignment = False
        self.flushed = False

    def flush(self) -> None:
        self.flushed = True
        enqueue(indicator_ids=sorted(self.indicator_ids | set(self.cells)), alignment=self.alignment)


def _current_batch() -> _Batch:
    """This transaction's batch; a new one (with its on_commit callback) if there is none yet.

    A batch whose callback is no longer registered (it ran, or its transaction or savepoint was
    rolled back, which discards the callback) is replaced.
    """
    batch: _Batch | None = getattr(connection, _BATCH_ATTRIBUTE, None)
    registered = batch is not None and not batch.flushed and connection.in_atomic_block
    if registered:
        registered = any(entry[1] == batch.flush for entry in connection.run_on_commit)
    if not registered:
        batch = _Batch()
        setattr(connection, _BATCH_ATTRIBUTE, batch)
        # In autocommit mode on_commit runs the callback at once, so fill the batch first.
        if connection.in_atomic_block:
            transaction.on_commit(batch.flush, robust=True)
    return batch


def schedule_recompute(*, indicator_ids: Iterable[int]) -> None:
    """Indicators whose numbers may have moved; recompute their rollups, then alignment.

    Call inside the writing transaction (any number of times): marks the indicators stale now
    and enqueues one recompute per indicator when the transaction commits.
    """
    ids = {int(indicator_id) for indicator_id in indicator_ids}
    if not ids:
        return
    batch = _current_batch()
    new_ids = ids - batch.indicator_ids
    if new_ids:
        mark_indicators_stale(sorted(new_ids))
        batch.indicator_ids |= new_ids
        for indicator_id in new_ids:
            batch.cells.pop(indicator_id, None)  # the full recompute covers them
    if not connection.in_atomic_block:
        batch.flush()


def schedule_cell_recompute(*, cells: Iterable[Cell]) -> None:
    """Results of these (indicator, municipality, category, option) cells changed (value, status,
    creation, deletion); nothing else did. Cheaper than `schedule_recompute` for the indicator.

    Call inside the writing transaction. Use `schedule_recompute` instead when a target, an
    indicator's definition or a membership changed.
    """
    batch = _current_batch()
    new_rows: list[Cell] = []
    escalate: set[int] = set()
    for indicator_id, municipality_id, category, option in cells:
        indicator_id = int(indicator_id)
        if indicator_id in batch.indicator_ids:
            continue
        known = batch.cells.setdefault(indicator_id, set())
        cell = (int(municipality_id), category or "", option or "")
        if cell in known:
            continue
        known.add(cell)
        if len(known) > MAX_CELLS_PER_INDICATOR:
            escalate.add(indicator_id)
        else:
            new_rows.append((indicator_id, *cell))
    new_rows = [row for row in new_rows if row[0] not in escalate]
    if new_rows:
        record_cell_requests(new_rows)
    if escalate:
        mark_indicators_stale(sorted(escalate))
        batch.indicator_ids |= escalate
        for indicator_id in escalate:
            batch.cells.pop(indicator_id, None)
    if not connection.in_atomic_block:
        batch.flush()


def record_cell_requests(rows: list[Cell]) -> None:
    """Insert the cell requests (no enqueue; `schedule_cell_recompute` does both)."""
    RollupCellRequest.objects.bulk_create(
        RollupCellRequest(
            indicator_id=indicator_id,
            municipality_id=municipality_id,
            disaggregation_category=category,
            disaggregation_option=option,
        )
        for indicator_id, municipality_id, category, option in rows
    )


def schedule_alignment_recompute() -> None:
    """Alignment inputs moved (an alignment, a goal's parent, a programme's donors)."""
    batch = _current_batch()
    if not batch.alignment:
        mark_alignment_stale()
        batch.alignment = True
    if not connection.in_atomic_block:
        batch.flush()


def enqueue(*, indicator_ids: Iterable[int] = (), alignment: bool = False) -> bool:
    """Send the tasks now (after commit). Returns False, logging why, if the broker is unreachable.

    Indicator tasks enqueue the alignment recompute themselves when they finish, so alignment is
    sent directly only when nothing else is.
    """
    ids = list(indicator_ids)
    queue = settings.CELERY_ROLLUP_QUEUE  # read per call: tests point it at their own queue
    try:
        for indicator_id in ids:
            _task(RECOMPUTE_INDICATOR_TASK).apply_async(args=[indicator_id], queue=queue, retry=False)
        if alignment and not ids:
            _task(RECOMPUTE_ALIGNMENT_TASK).apply_async(queue=queue, retry=False)
    except Exception:  # the broker is down: the stale marks stay, the reconcile repairs them
        logger.exception(
            "Could not enqueue rollup recompute for indicators %s; they stay marked stale until "
            "`manage.py recompute_rollups` or the nightly reconcile runs.",
            ids,
        )
        return False
    return True


def _task(name: str):
    """The registered task of that name. Looked up by name, so this module does not import the
    tasks module, which imports it; `apply_async` on the registered task still runs it eagerly
    when `CELERY_TASK_ALWAYS_EAGER` is on (the demo)."""
    return current_app.tasks[name]


def mark_indicators_stale(ids: list[int]) -> None:
    """Bump the requested version of these indicators (no enqueue; `schedule_recompute` does both)."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        state, indicator = quoted_names(IndicatorRollupState), quoted_names(Indicator)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {state.table} AS st
                    ({state.indicator}, {state.requested_version}, {state.computed_version}, {state.dirty_since})
                SELECT i.{indicator.id}, 1, 0, %(now)s FROM {indicator.table} i WHERE i.{indicator.id} = ANY(%(ids)s)
                ON CONFLICT ({state.indicator}) DO UPDATE
                SET {state.requested_version} = st.{state.requested_version} + 1,
                    {state.dirty_since} = COALESCE(st.{state.dirty_since}, EXCLUDED.{state.dirty_since})
                """,
                {"ids": ids, "now": now},
            )
        return
    live = set(Indicator.objects.filter(id__in=ids).values_list("id", flat=True))
    existing = set(IndicatorRollupState.objects.filter(indicator_id__in=live).values_list("indicator_id", flat=True))
    IndicatorRollupState.objects.bulk_create(
        [IndicatorRollupState(indicator_id=i, requested_version=1, dirty_since=now) for i in sorted(live - existing)]
    )
    IndicatorRollupState.objects.filter(indicator_id__in=existing).update(requested_version=F("requested_version") + 1)
    IndicatorRollupState.objects.filter(indicator_id__in=existing, dirty_since__isnull=True).update(dirty_since=now)


def mark_alignment_stale() -> None:
    """Bump the alignment snapshot's requested version (creating the singleton row if needed)."""
    AlignmentSnapshot.objects.get_or_create(pk=1)
    AlignmentSnapshot.objects.filter(pk=1).update(requested_version=F("requested_version") + 1)
    AlignmentSnapshot.objects.filter(pk=1, dirty_since__isnull=True).update(dirty_since=timezone.now())


def alignment_pending() -> bool:
    """True when the stored alignment snapshot is missing or older than a request for it."""
    snapshot = (
        AlignmentSnapshot.objects.filter(pk=1).values("requested_version", "computed_version", "computed_at").first()
    )
    return (
        snapshot is None
        or snapshot["computed_at"] is None
        or snapshot["requested_version"] > snapshot["computed_version"]
    )


def pending_indicator_ids(
    indicator_ids: Iterable[int] | None = None,
    *,
    requested_after: datetime | None = None,
    requested_before: datetime | None = None,
) -> set[int]:
    """The indicators (of `indicator_ids`, or all) with a recompute requested and not yet done:
    a full recompute (state versions) or changed cells (RollupCellRequest rows). One query.

    `requested_after` keeps only requests made since then (the ones whose task is still expected;
    older ones were lost, e.g. while Redis was down, and wait for `requeue_stale` or the reconcile);
    `requested_before` keeps only those older than that.
    """
    full = pending_indicators_queryset(indicator_ids)
    cells = RollupCellRequest.objects.all()
    if indicator_ids is not None:
        cells = cells.filter(indicator_id__in=list(indicator_ids))
    if requested_after is not None:
        full = full.filter(dirty_since__gte=requested_after)
        cells = cells.filter(requested_at__gte=requested_after)
    if requested_before is not None:
        full = full.filter(dirty_since__lt=requested_before)
        cells = cells.filter(requested_at__lt=requested_before)
    return set(full.values("indicator_id").union(cells.values("indicator_id")).values_list("indicator_id", flat=True))


def pending_indicators_queryset(indicator_ids: Iterable[int] | None = None):
    """IndicatorRollupState rows with a full recompute pending (cell requests not included)."""
    states = IndicatorRollupState.objects.filter(requested_version__gt=F("computed_version"))
    if indicator_ids is not None:
        states = states.filter(indicator_id__in=list(indicator_ids))
    return states


def latest_computed_at(indicator_ids: Iterable[int] | None = None) -> datetime | None:
    """When the last of these indicators (or any) was recomputed; None if never."""
    states = IndicatorRollupState.objects.all()
    if indicator_ids is not None:
        states = states.filter(indicator_id__in=list(indicator_ids))
    return states.aggregate(latest=Max("computed_at"))["latest"]


def requeue_stale(*, older_than: timedelta) -> list[int]:
    """Send again the recomputes requested more than `older_than` ago and still not done: their
    task was never enqueued (the broker was down at commit) or was dropped. Returns the indicator
    ids sent (the alignment snapshot goes with them, or alone when it is the only one stale).

    Does nothing while tasks still wait on the rollup queue: a backlog is slow, not lost, and
    sending its indicators again every minute would only make it longer. A task sent twice does
    no harm (the second finds nothing to take), so running this again is safe.
    """
    cutoff = timezone.now() - older_than
    ids = sorted(pending_indicator_ids(requested_before=cutoff))
    alignment = AlignmentSnapshot.objects.filter(
        pk=1, requested_version__gt=F("computed_version"), dirty_since__lt=cutoff
    ).exists()
    if not ids and not alignment:
        return []
    waiting = waiting_task_count()
    if waiting:
        logger.info("%d rollup tasks still queued: stale recomputes not sent again yet", waiting)
        return []
    logger.warning("Sending again %d rollup recomputes requested before %s", len(ids), cutoff.isoformat())
    if not enqueue(indicator_ids=ids, alignment=alignment):
        return []
    return ids


def waiting_task_count() -> int:
    """Messages waiting on the rollup queue (those a worker has already taken not counted)."""
    with current_app.connection_for_write() as connection_:
        return connection_.default_channel.queue_declare(queue=settings.CELERY_ROLLUP_QUEUE).message_count
