from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("Indicators")

    def ready(self) -> None:
        from projects.signals import programme_scope_changed

        programme_scope_changed.connect(
            recompute_after_programme_scope_change, dispatch_uid="indicators.rollups.programme_scope_changed"
        )


def recompute_after_programme_scope_change(sender, *, programme_id: int, **kwargs) -> None:
    """A programme's twinnings, workstreams or donors changed (inside the writing transaction):
    its indicators' twinning rollups and the alignment report (donors, overlaps) are stale."""
    from indicators.models import Indicator
    from indicators.rollup_queue import schedule_alignment_recompute, schedule_recompute

    schedule_recompute(indicator_ids=Indicator.objects.filter(programme_id=programme_id).values_list("id", flat=True))
    schedule_alignment_recompute()
