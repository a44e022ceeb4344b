"""Schedules the registry's background work after the writing transaction commits: bringing a
programme's intervention up to date, and running the duplicate detector.

Calls made inside one transaction are gathered (a seed or an import that touches a programme
fifty times enqueues one task for it) and sent by one `on_commit` callback; a rollback sends
nothing. The tasks are enqueued by name, so this module and `tasks.py` do not import each other.
A broker that cannot be reached is logged, not raised: the user's write has committed, and
`manage.py refresh_registry` or the nightly refresh catch up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

SYNC_PROGRAMME_TASK = "registry.sync_programme"
DETECT_TASK = "registry.detect_overlaps"
REFRESH_TASK = "registry.refresh"
# Past this many interventions one full run of the detector is cheaper than a scoped one.
FULL_RUN_ABOVE = 1000

_ATTRIBUTE = "_registry_pending_work"


class _Pending:
    def __init__(self) -> None:
        self.programme_ids: set[int] = set()
        self.intervention_ids: set[int] = set()
        self.everything = False
        self.flushed = False

    def flush(self) -> None:
        self.flushed = True
        enqueue(
            programme_ids=sorted(self.programme_ids),
            intervention_ids=None if self.everything else sorted(self.intervention_ids),
        )


def _current() -> _Pending:
    pending: _Pending | None = getattr(connection, _ATTRIBUTE, None)
    registered = pending is not None and not pending.flushed and connection.in_atomic_block
    if registered:
        registered = any(entry[1] == pending.flush for entry in connection.run_on_commit)
    if not registered:
        pending = _Pending()
        setattr(connection, _ATTRIBUTE, pending)
        if connection.in_atomic_block:
            transaction.on_commit(pending.flush, robust=True)
    return pending


def schedule_programme_sync(programme_id: int) -> None:
    """The programme (its names, dates, donors, twinnings or workstreams) changed."""
    pending = _current()
    pending.programme_ids.add(int(programme_id))
    if not connection.in_atomic_block:
        pending.flush()


def schedule_detection(intervention_ids: Iterable[int] | None) -> None:
    """These interventions changed (None: possibly all of them); find their candidate pairs again."""
    pending = _current()
    if intervention_ids is None:
        pending.everything = True
    else:
        pending.intervention_ids.update(int(i) for i in intervention_ids)
        if len(pending.intervention_ids) > FULL_RUN_ABOVE:
            pending.everything = True
    if not connection.in_atomic_block:
        pending.flush()


def enqueue(*, programme_ids: list[int], intervention_ids: list[int] | None) -> bool:
    queue = settings.CELERY_REGISTRY_QUEUE  # read per call: tests point it at their own queue
    try:
        for programme_id in programme_ids:
            current_app.tasks[SYNC_PROGRAMME_TASK].apply_async(args=[programme_id], queue=queue, retry=False)
        if intervention_ids is None or intervention_ids:
            current_app.tasks[DETECT_TASK].apply_async(args=[intervention_ids], queue=queue, retry=False)
    except Exception:  # the broker is down: the nightly refresh brings the registry up to date
        logger.exception(
            "Could not enqueue the registry's work (programmes %s); `manage.py refresh_registry` "
            "or the nightly refresh will catch up.",
            programme_ids,
        )
        return False
    return True
