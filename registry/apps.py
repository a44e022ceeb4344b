from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Aid-coordination registry")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from projects.models import Programme, Workstream
        from projects.signals import programme_scope_changed
        from registry import (
            receivers,
            tasks,  # noqa: F401  (registers the tasks the queue enqueues by name)
        )

        # Whatever path the write takes (services, admin, a shell), the programme's intervention
        # follows its names, dates, donors and places.
        post_save.connect(receivers.programme_saved, sender=Programme, dispatch_uid="registry.programme_saved")
        programme_scope_changed.connect(
            receivers.programme_scope_changed, dispatch_uid="registry.programme_scope_changed"
        )
        for signal, event in ((post_save, "saved"), (post_delete, "deleted")):
            signal.connect(receivers.workstream_changed, sender=Workstream, dispatch_uid=f"registry.workstream_{event}")
