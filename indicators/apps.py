from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("Indicators")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_delete

        from indicators.models import FunderGoal, Indicator, NationalTarget
        from projects.models import Programme
        from projects.signals import programme_scope_changed

        pre_delete.connect(
            lock_rollups_of_deleted_indicator, sender=Indicator, dispatch_uid="indicators.rollups.indicator_deleted"
        )

        programme_scope_changed.connect(
            recompute_after_programme_scope_change, dispatch_uid="indicators.rollups.programme_scope_changed"
        )

        # Whatever path the write takes (services, admin, a shell), a report cached before it
        # must not go on showing the old name, code, unit or programme dates.
        for model in (Indicator, Programme, NationalTarget, FunderGoal):
            for signal, event in ((post_save, "saved"), (post_delete, "deleted")):
                signal.connect(
                    reports_content_changed, sender=model, dispatch_uid=f"indicators.reports.{model.__name__}.{event}"
                )


def recompute_after_programme_scope_change(sender, *, programme_id: int, **kwargs) -> None:
    """A programme's twinnings, workstreams or donors changed (inside the writing transaction):
    its indicators' twinning rollups and the alignment report (donors, overlaps) are stale."""
    from indicators.models import Indicator
    from indicators.rollup_queue import schedule_alignment_recompute, schedule_recompute

    schedule_recompute(indicator_ids=Indicator.objects.filter(programme_id=programme_id).values_list("id", flat=True))
    schedule_alignment_recompute()


def lock_rollups_of_deleted_indicator(sender, *, instance, **kwargs) -> None:
    """Take the indicator's rollup lock before its rollups are deleted: a recompute running now
    finishes first, and one starting later no longer finds the indicator (the rollup table has no
    foreign key that would stop it writing rows for a deleted indicator)."""
    from indicators.engine import lock_indicators

    lock_indicators([instance.pk])


def reports_content_changed(sender, **kwargs) -> None:
    from indicators.reports import content_changed

    content_changed()
