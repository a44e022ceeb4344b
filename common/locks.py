"""Every PostgreSQL advisory-lock key the product takes, in one place, so no two uses collide.

Keys are two-part (`pg_advisory_xact_lock(class, id)`): the class says what is locked, the id
which one.
"""

from enum import IntEnum


class LockClass(IntEnum):
    # One indicator's rollups: recompute, rebuild and the indicator's deletion take it (id: the
    # indicator's id), so one indicator's rows are never written by two transactions at once.
    INDICATOR_ROLLUPS = 73_011
    # The stored every-programme alignment snapshot (id: 0, there is one).
    ALIGNMENT_SNAPSHOT = 73_012
    # The registry's duplicate candidates (id: 0): one detector run writes them at a time.
    REGISTRY_DETECTOR = 73_013


ALIGNMENT_SNAPSHOT_LOCK = (LockClass.ALIGNMENT_SNAPSHOT, 0)
