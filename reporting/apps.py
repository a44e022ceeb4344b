from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from indicators.models import FunderGoal, Indicator, NationalTarget
        from projects.models import Programme

        # Whatever path the write takes (services, admin, a shell), a report cached before it
        # must not go on showing the old name, code, unit or programme dates.
        for model in (Indicator, Programme, NationalTarget, FunderGoal):
            for signal, event in ((post_save, "saved"), (post_delete, "deleted")):
                signal.connect(
                    _content_changed, sender=model, dispatch_uid=f"reporting.content.{model.__name__}.{event}"
                )


def _content_changed(sender, **kwargs) -> None:
    from reporting.reports import content_changed  # reports reads models: not at app-loading time

    content_changed()
