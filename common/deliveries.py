"""A bound on how often the broker hands out a task that keeps killing its worker.

Tasks are acknowledged late and rejected when their worker is lost (`CELERY_TASK_ACKS_LATE`,
`CELERY_TASK_REJECT_ON_WORKER_LOST`), so a task whose worker died mid-run (killed, out of memory,
past its hard time limit) is delivered again: nothing is lost. A task that kills every worker
that takes it would go round forever. `BoundedDeliveryTask` counts, in the cache, the deliveries
of one piece of work (the task's name and arguments, so a fresh task for the same work shares the
count) that started and never finished; past the limit it logs an error and drops the delivery.
A delivery that finishes, successfully or not, clears the count. Should the cache be down, the
task runs uncounted: the bound is a safety net, never a reason not to work.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from celery import Task
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# How long an unfinished count is remembered: work dropped at the limit is refused for this long.
COUNT_SECONDS = 24 * 60 * 60


def delivery_key(task_name: str, args: tuple | list, kwargs: dict[str, Any]) -> str:
    """The same for every delivery of the same work, whatever the task id."""
    raw = repr((task_name, tuple(args), sorted(kwargs.items())))
    return "task-deliveries:" + hashlib.sha256(raw.encode()).hexdigest()


def count_delivery(key: str) -> int | None:
    """One more delivery of `key` started; the number of those not finished (None: cache down)."""
    try:
        cache.add(key, 0, COUNT_SECONDS)
        return cache.incr(key)
    except Exception:  # e.g. Redis down; a missing key raced away by an expiry counts as unknown too
        logger.warning("could not count the deliveries of %s; running it uncounted", key, exc_info=True)
        return None


def delivery_finished(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        logger.warning("could not clear the delivery count of %s", key, exc_info=True)


def over_limit(count: int | None, limit: int) -> bool:
    """True when `count` deliveries started and all earlier ones died: more than `limit`."""
    return count is not None and count > limit


class BoundedDeliveryTask(Task):
    """A Celery task base that drops work whose deliveries keep dying (see the module docstring).

    `max_deliveries` on a task overrides `settings.CELERY_TASK_MAX_DELIVERIES`.
    """

    abstract = True
    max_deliveries: int | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = delivery_key(self.name, args, kwargs)
        limit = self.max_deliveries or settings.CELERY_TASK_MAX_DELIVERIES
        count = count_delivery(key)
        if over_limit(count, limit):
            # The count is kept: later deliveries of the same work are dropped until it expires.
            logger.error(
                "Dropping task %s%r: delivered %d times and its worker died every time (limit %d)",
                self.name,
                tuple(args),
                count,
                limit,
            )
            return None
        try:
            return super().__call__(*args, **kwargs)
        finally:
            delivery_finished(key)
