"""How the rollups hear that their inputs moved: the lower apps' signals, handled inside the
writing transaction, so the stale marks commit (or roll back) with the write."""

from indicators.models import Indicator
from rollups.engine import lock_indicators
from rollups.queue import schedule_alignment_recompute, schedule_cell_recompute, schedule_recompute


def recompute_cells(sender, *, cells, **kwargs) -> None:
    schedule_cell_recompute(cells=cells)


def recompute_indicators(sender, *, indicator_ids, **kwargs) -> None:
    schedule_recompute(indicator_ids=indicator_ids)


def recompute_alignment(sender, **kwargs) -> None:
    schedule_alignment_recompute()


def recompute_after_programme_scope_change(sender, *, programme_id: int, **kwargs) -> None:
    """A programme's twinnings, workstreams or donors changed: its indicators' twinning rollups
    and the alignment report (donors, overlaps) are stale."""
    schedule_recompute(indicator_ids=Indicator.objects.filter(programme_id=programme_id).values_list("id", flat=True))
    schedule_alignment_recompute()


def lock_rollups_of_deleted_indicator(sender, *, instance, **kwargs) -> None:
    """Take the indicator's rollup lock before its rollups are deleted: a recompute running now
    finishes first, and one starting later no longer finds the indicator (the rollup table has no
    foreign key that would stop it writing rows for a deleted indicator)."""
    lock_indicators([instance.pk])
