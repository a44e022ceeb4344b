from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from indicators.signals import result_status_changed
        from notifications import (
            receivers,
            tasks,  # noqa: F401  (registers the tasks enqueued by name and run by beat)
        )
        from partners.signals import invitation_sent

        result_status_changed.connect(receivers.result_status_changed, dispatch_uid="notifications.result_status")
        invitation_sent.connect(receivers.invitation_sent, dispatch_uid="notifications.invitation_sent")
