"""Marks rollups stale and schedules their recompute (DESIGN §2 tasks, issue: rollup engine).

Services call these inside their transaction; the work is enqueued with transaction.on_commit.
"""

from collections.abc import Iterable


def schedule_recompute(*, indicator_ids: Iterable[int]) -> None:
    """Indicators whose numbers may have moved; recompute their rollups, then alignment."""


def schedule_alignment_recompute() -> None:
    """Alignment inputs moved (an alignment, a goal's parent, a programme's donors)."""
