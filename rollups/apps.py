from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RollupsConfig(AppConfig):
    name = "rollups"
    verbose_name = _("Rollups")

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from indicators.models import Indicator
        from indicators.signals import alignment_inputs_changed, indicators_changed, result_cells_changed
        from projects.signals import programme_scope_changed
        from rollups import (
            receivers,
            tasks,  # noqa: F401  (registers the tasks the queue enqueues by name)
        )

        result_cells_changed.connect(receivers.recompute_cells, dispatch_uid="rollups.result_cells_changed")
        indicators_changed.connect(receivers.recompute_indicators, dispatch_uid="rollups.indicators_changed")
        alignment_inputs_changed.connect(receivers.recompute_alignment, dispatch_uid="rollups.alignment_inputs")
        programme_scope_changed.connect(
            receivers.recompute_after_programme_scope_change, dispatch_uid="rollups.programme_scope_changed"
        )
        pre_delete.connect(
            receivers.lock_rollups_of_deleted_indicator, sender=Indicator, dispatch_uid="rollups.indicator_deleted"
        )
