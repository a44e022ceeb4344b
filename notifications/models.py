"""What a user is told, and how they want to be told (docs/reporting-cycle.md).

A notification keeps its message as text, in the recipient's language when it was made, and the
parameters that made it, so a page in the other language renders it again. Reminders name the
cell they are about (indicator, municipality, period): one per recipient, stage and cell, held
by the database, however often the daily reminder job runs.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        RESULT_SUBMITTED = "result_submitted", _("Results submitted for approval")
        RESULT_RETURNED = "result_returned", _("Results returned")
        RESULT_APPROVED = "result_approved", _("Results approved")
        REPORT_DUE = "report_due", _("Results due soon")
        REPORT_OVERDUE = "report_overdue", _("Results overdue")
        OVERLAP_FOUND = "overlap_found", _("Possible overlap found")
        INVITATION = "invitation", _("Invitation")

    REMINDER_KINDS = (Kind.REPORT_DUE, Kind.REPORT_OVERDUE)

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    message = models.TextField(_("message"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    # What the notification is about, when it is about a reporting cell.
    indicator = models.ForeignKey(
        "indicators.Indicator",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("indicator"),
        null=True,
        blank=True,
    )
    municipality = models.ForeignKey(
        "partners.Organisation",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("municipality"),
        null=True,
        blank=True,
    )
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "indicator", "municipality", "period_start"],
                condition=Q(kind__in=["report_due", "report_overdue"]),
                name="notification_one_reminder_per_cell_and_stage",
                violation_error_message=_("This reminder was already sent."),
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["report_due", "report_overdue"])
                | Q(indicator__isnull=False, municipality__isnull=False, period_start__isnull=False),
                name="notification_reminder_names_its_cell",
                violation_error_message=_("A reminder names its indicator, municipality and period."),
            ),
        ]
        indexes = [
            # The bell: a user's unread count on every page.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.get_kind_display()}"


class NotificationPreference(models.Model):
    """How a user wants to hear: e-mail at once, a daily digest or none; and the language of
    their e-mails and, after signing in, of their pages. No row means the defaults."""

    class Email(models.TextChoices):
        IMMEDIATE = "immediate", _("At once")
        DAILY = "daily", _("A daily digest")
        NONE = "none", _("No e-mail")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    email = models.CharField(_("e-mail"), max_length=12, choices=Email.choices, default=Email.IMMEDIATE)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.get_email_display()}, {self.get_language_display()}"
