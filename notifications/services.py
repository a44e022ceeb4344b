"""Every write about notifications: creating them (for result transitions, reminders and any
other kind), marking them read, preferences, and sending their e-mails (docs/reporting-cycle.md).

E-mails never go out inside the user's transaction: a notification is created there (it rolls
back with the action) and its e-mail is enqueued on commit, to a Celery task that retries; a
broker or mail server that is down costs the user nothing. Each notification is e-mailed at most
once: the sender claims it under a row lock and stamps `emailed_at` in the same transaction.
"""

import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator, Result
from partners.models import Invitation, Organisation
from partners.services import invitation_expires_at, invitation_is_open, invitation_token
from reporting.completeness import missing_cells

from . import emails, messages, selectors
from .models import Notification, NotificationPreference

logger = logging.getLogger(__name__)
User = get_user_model()

SEND_EMAIL_TASK = "notifications.send_email"
SEND_DIGEST_TASK = "notifications.send_digest"
SEND_INVITATION_TASK = "notifications.send_invitation"
REMIND_DAYS_BEFORE = 7
# Overdue reminders look this far back: older gaps are the completeness report's business, not
# a flood of mail the first day reminders run.
OVERDUE_LOOKBACK_DAYS = 60
# An immediate e-mail still unsent after this long (its task was lost) is sent by the daily job.
EMAIL_GRACE = datetime.timedelta(minutes=10)

Link = Callable[[str], str]


# Creating ----------------------------------------------------------------------------------


@transaction.atomic
def notifications_create(
    *,
    recipient_ids: Iterable[int],
    kind: str,
    parameters: dict[str, Any],
    link: Link | None = None,
    indicator_id: int | None = None,
    municipality_id: int | None = None,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
) -> list[Notification]:
    """One notification of `kind` per recipient, each in the recipient's language, with the
    link `link(language)`; e-mails of those who want them at once go out after commit."""
    if kind not in Notification.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of notification.")})
    if kind in Notification.REMINDER_KINDS and None in (indicator_id, municipality_id, period_start):
        raise ValidationError({"kind": _("A reminder names its indicator, municipality and period.")})
    preferences = selectors.preferences_for(recipient_ids)
    created = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id,
                kind=kind,
                language=preference.language,
                message=messages.render(kind, parameters, preference.language),
                parameters=parameters,
                url=link(preference.language) if link else "",
                indicator_id=indicator_id,
                municipality_id=municipality_id,
                period_start=period_start,
                period_end=period_end,
            )
            for user_id, preference in sorted(preferences.items())
        ]
    )
    email_soon([n.pk for n in created if preferences[n.recipient_id].email == NotificationPreference.Email.IMMEDIATE])
    return created


def notification_create(
    *, recipient: AbstractBaseUser, kind: str, parameters: dict[str, Any], **fields
) -> Notification:
    (created,) = notifications_create(recipient_ids=[recipient.pk], kind=kind, parameters=parameters, **fields)
    return created


def email_soon(notification_ids: list[int]) -> None:
    """Enqueue the e-mails of these notifications once the transaction commits (nothing on a
    rollback); a broker that cannot be reached is logged, and the daily job sends them later."""
    ids = list(notification_ids)
    if not ids:
        return

    def enqueue() -> None:
        queue = settings.CELERY_NOTIFICATIONS_QUEUE  # read per call: tests point it at their own queue
        try:
            for pk in ids:
                current_app.tasks[SEND_EMAIL_TASK].apply_async(args=[pk], queue=queue, retry=False)
        except Exception:
            logger.exception("Could not enqueue the e-mails of notifications %s; the daily job sends them.", ids)

    transaction.on_commit(enqueue, robust=True)


# Result transitions --------------------------------------------------------------------------


def _names(obj, field: str) -> dict[str, str]:
    return {"en": getattr(obj, f"{field}_en", "") or "", "ar": getattr(obj, f"{field}_ar", "") or ""}


def _display(user: AbstractBaseUser | None) -> str:
    if user is None:
        return str(_("The system"))
    return user.get_full_name() or user.get_username()


def grid_link(result_or_cell: Result | Any, measure: str) -> Link:
    """The result grid opened at the cell: the indicator, municipality and period, and the
    total's first input."""
    query = urlencode(
        {
            "indicator": result_or_cell.indicator_id,
            "municipality": result_or_cell.municipality_id,
            "period": result_or_cell.period_start.isoformat(),
        }
    )
    part = "numerator" if measure == Indicator.Measure.PERCENTAGE else "value"
    return _page_link("result_entry", f"?{query}#total-{part}")


def _page_link(name: str, suffix: str) -> Link:
    """A page of `web`, in the recipient's language; "" where the pages are not mounted (an
    API-only deployment)."""

    def link(language: str) -> str:
        with translation.override(language):
            try:
                return reverse(name) + suffix
            except NoReverseMatch:
                return ""

    return link


def queue_link(result: Result) -> Link:
    """The approval queue narrowed to this result's indicator, municipality and period."""
    query = urlencode(
        {
            "indicator": result.indicator_id,
            "municipality": result.municipality_id,
            "period": result.period_start.isoformat(),
        }
    )
    return _page_link("approval_queue", f"?{query}")


def _cell_parameters(indicator: Indicator, municipality: Organisation, start: datetime.date, end: datetime.date):
    return {
        "indicator_code": indicator.code,
        "indicator_name": _names(indicator, "name"),
        "municipality": _names(municipality, "name"),
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
    }


@dataclass
class _Telling:
    """One group of moved results to tell of, and to whom."""

    result: Result  # the first of the group: what the message is about
    kind: str
    recipients: set[int]
    link: Link


@transaction.atomic
def results_status_notify(
    *, moves: Sequence[tuple[Result, str]], user: AbstractBaseUser | None, comment: str = ""
) -> list[Notification]:
    """Tell exactly the right people that results moved (docs/reporting-cycle.md), one
    notification per recipient and group (indicator, municipality, period):
    submitted → those who may approve them (`projects.access`), but not whoever entered, changed
    or submitted them; returned → the submitter, with the comment and a link to the cell;
    approved → the submitter. Whoever acted is never told of their own action; other moves tell
    no one. A fixed number of queries for any number of results (plus, per approver who may be
    told, what their access needs)."""
    results = [result for result, _previous in moves]
    indicators = {
        i.pk: i
        for i in Indicator.objects.filter(pk__in={r.indicator_id for r in results})
        .select_related("programme")
        .only("id", "code", "name_en", "name_ar", "measure", "programme__id", "programme__implementer_id")
    }
    submitted = [r for r in results if r.status == Result.Status.SUBMITTED]
    approvers = selectors.approvers_of(submitted, indicators) if submitted else {}
    hands = selectors.hands_on_each(submitted) if submitted else {}
    groups: dict[tuple, _Telling] = {}
    for result, previous in moves:
        group = (result.indicator_id, result.municipality_id, result.period_start, result.status)
        indicator = indicators[result.indicator_id]
        if result.status == Result.Status.SUBMITTED:
            telling = groups.setdefault(
                group, _Telling(result, Notification.Kind.RESULT_SUBMITTED, set(), queue_link(result))
            )
            telling.recipients |= approvers[result.pk] - hands[result.pk]
        elif result.status == Result.Status.RETURNED and result.submitted_by_id:
            telling = groups.setdefault(
                group, _Telling(result, Notification.Kind.RESULT_RETURNED, set(), grid_link(result, indicator.measure))
            )
            telling.recipients.add(result.submitted_by_id)
        elif result.status == Result.Status.APPROVED and previous == Result.Status.SUBMITTED and result.submitted_by_id:
            telling = groups.setdefault(
                group, _Telling(result, Notification.Kind.RESULT_APPROVED, set(), grid_link(result, indicator.measure))
            )
            telling.recipients.add(result.submitted_by_id)
    for telling in groups.values():
        telling.recipients.discard(user.pk if user is not None else None)
    groups = {key: telling for key, telling in groups.items() if telling.recipients}
    if not groups:
        return []
    municipalities = {
        m.pk: m
        for m in Organisation.objects.filter(pk__in={t.result.municipality_id for t in groups.values()}).only(
            "id", "name_en", "name_ar"
        )
    }
    preferences = selectors.preferences_for({pk for t in groups.values() for pk in t.recipients})
    new = []
    for telling in groups.values():
        result = telling.result
        parameters = {
            **_cell_parameters(
                indicators[result.indicator_id],
                municipalities[result.municipality_id],
                result.period_start,
                result.period_end,
            ),
            "actor": _display(user),
            "comment": comment,
        }
        for user_id in sorted(telling.recipients):
            language = preferences[user_id].language
            new.append(
                Notification(
                    recipient_id=user_id,
                    kind=telling.kind,
                    language=language,
                    message=messages.render(telling.kind, parameters, language),
                    parameters=parameters,
                    url=telling.link(language),
                    indicator_id=result.indicator_id,
                    municipality_id=result.municipality_id,
                    period_start=result.period_start,
                    period_end=result.period_end,
                )
            )
    created = Notification.objects.bulk_create(new)
    email_soon([n.pk for n in created if preferences[n.recipient_id].email == NotificationPreference.Email.IMMEDIATE])
    return created


# Reminders -----------------------------------------------------------------------------------


@transaction.atomic
def reminders_send(*, today: datetime.date) -> int:
    """Remind the reporters of every cell still missing: once when it is due within
    `REMIND_DAYS_BEFORE` days, once when it is overdue (due in the last `OVERDUE_LOOKBACK_DAYS`
    days). The unique constraint on (recipient, kind, cell) makes a second run, a duplicate
    delivery or a restarted worker send nothing again. Returns the number of reminders created."""
    cells = missing_cells(
        due_from=today - datetime.timedelta(days=OVERDUE_LOOKBACK_DAYS),
        due_to=today + datetime.timedelta(days=REMIND_DAYS_BEFORE),
    )
    if not cells:
        return 0
    indicators = {
        i.pk: i
        for i in Indicator.objects.filter(pk__in={c.indicator_id for c in cells})
        .select_related("programme")
        .only("id", "code", "name_en", "name_ar", "measure", "workstream_id", "programme__implementer_id")
    }
    municipalities = {
        m.pk: m
        for m in Organisation.objects.filter(pk__in={c.municipality_id for c in cells}).only("id", "name_en", "name_ar")
    }
    implementers = {i.programme.implementer_id for i in indicators.values()} - {None}
    editors = selectors.editors_by_organisation(set(municipalities) | implementers)
    wanted: list[tuple[Any, str, set[int]]] = []
    for cell in cells:
        indicator = indicators[cell.indicator_id]
        kind = Notification.Kind.REPORT_DUE if cell.due_date >= today else Notification.Kind.REPORT_OVERDUE
        recipients = selectors.reporters(
            has_workstream=indicator.workstream_id is not None,
            municipality_id=cell.municipality_id,
            implementer_id=indicator.programme.implementer_id,
            editors=editors,
        )
        if recipients:
            wanted.append((cell, kind, recipients))
    sent = set(
        Notification.objects.filter(
            kind__in=Notification.REMINDER_KINDS,
            indicator_id__in={c.indicator_id for c, _k, _r in wanted},
            period_start__in={c.period_start for c, _k, _r in wanted},
        ).values_list("recipient_id", "kind", "indicator_id", "municipality_id", "period_start")
    )
    preferences = selectors.preferences_for({user for _c, _k, recipients in wanted for user in recipients})
    new = []
    for cell, kind, recipients in wanted:
        indicator = indicators[cell.indicator_id]
        parameters = {
            **_cell_parameters(indicator, municipalities[cell.municipality_id], cell.period_start, cell.period_end),
            "due": cell.due_date.isoformat(),
        }
        link = grid_link(cell, indicator.measure)
        for user_id in sorted(recipients):
            if (user_id, kind, cell.indicator_id, cell.municipality_id, cell.period_start) in sent:
                continue
            language = preferences[user_id].language
            new.append(
                Notification(
                    recipient_id=user_id,
                    kind=kind,
                    language=language,
                    message=messages.render(kind, parameters, language),
                    parameters=parameters,
                    url=link(language),
                    indicator_id=cell.indicator_id,
                    municipality_id=cell.municipality_id,
                    period_start=cell.period_start,
                    period_end=cell.period_end,
                )
            )
    # A run racing this one may have inserted some of them since: the constraint keeps one, and
    # an e-mail is claimed before it is sent, so neither run sends it twice.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        immediate = [pk for pk, p in preferences.items() if p.email == NotificationPreference.Email.IMMEDIATE]
        email_soon(
            list(
                Notification.objects.filter(
                    kind__in=Notification.REMINDER_KINDS,
                    emailed_at__isnull=True,
                    created_at__gte=timezone.now() - EMAIL_GRACE,
                    recipient_id__in=immediate,
                    indicator_id__in={n.indicator_id for n in new},
                ).values_list("pk", flat=True)
            )
        )
    return len(new)


# Reading ---------------------------------------------------------------------------------------


@transaction.atomic
def notifications_mark_read(*, user: AbstractBaseUser, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications read (all, or those of `ids`); returns how many.
    Another user's ids are ignored."""
    unread = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


@transaction.atomic
def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


@transaction.atomic
def preference_update(
    *, user: AbstractBaseUser, email: str | None = None, language: str | None = None
) -> NotificationPreference:
    preference = NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)
    errors = {}
    if email is not None:
        if email not in NotificationPreference.Email.values:
            errors["email"] = _("Choose at once, a daily digest or no e-mail.")
        preference.email = email
    if language is not None:
        if language not in dict(settings.LANGUAGES):
            errors["language"] = _("Choose English or Arabic.")
        preference.language = language
    if errors:
        raise ValidationError(errors)
    preference.save()
    return preference


# E-mail ------------------------------------------------------------------------------------------


def invitation_email_soon(invitation_id: int) -> None:
    """E-mail the invitation once the transaction commits (nothing on a rollback). A broker that
    cannot be reached is logged and costs the inviter nothing: they can send it again from the
    people page."""

    def enqueue() -> None:
        try:
            current_app.tasks[SEND_INVITATION_TASK].apply_async(
                args=[invitation_id], queue=settings.CELERY_NOTIFICATIONS_QUEUE, retry=False
            )
        except Exception:
            logger.exception("Could not enqueue the e-mail of invitation %s.", invitation_id)

    transaction.on_commit(enqueue, robust=True)


def invitation_email_send(*, invitation_id: int) -> bool:
    """E-mail the invitation's link, whatever the invitee's notification settings (it is the only
    way in), in their language when they chose one, else in the inviter's page language; True
    when sent. At most once per sending: the row is claimed under a lock and `emailed_at`
    stamped with it; a closed or expired invitation is not sent. Raises if the mail server
    refuses, so the task retries; nothing is stamped then."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("organisation", "user", "invited_by")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None or not invitation_is_open(invitation):
            return False
        if invitation.emailed_at is not None and invitation.emailed_at >= invitation.sent_at:
            return False
        preference = selectors.preference_of(invitation.user)
        language = preference.language if preference.pk is not None else invitation.language
        with translation.override(language):
            try:
                url = reverse("setup_invitation_accept", args=[invitation_token(invitation)])
            except NoReverseMatch:  # an API-only deployment has no page to accept on
                return False
        emails.invitation_email(
            invitation, url=url, expires_at=invitation_expires_at(invitation), language=language
        ).send()
        invitation.emailed_at = timezone.now()
        invitation.save(update_fields=["emailed_at"])
    return True


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one notification if its recipient wants e-mails at once and it has not been sent;
    True when sent. Raises if the mail server refuses, so the task retries; nothing is stamped
    then."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.recipient.email or not notification.recipient.is_active:
            return False
        preference = selectors.preference_of(notification.recipient)
        if preference.email != NotificationPreference.Email.IMMEDIATE:
            return False
        emails.notification_email(notification, preference.language).send()
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def digest_send(*, user_id: int) -> int:
    """One e-mail with the user's notifications not yet e-mailed (daily digest); returns how many
    it listed. Raises if the mail server refuses, so the task retries."""
    with transaction.atomic():
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or not user.email:
            return 0
        preference = selectors.preference_of(user)
        if preference.email != NotificationPreference.Email.DAILY:
            return 0
        pending = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(recipient_id=user_id, emailed_at__isnull=True, read_at__isnull=True)
            .order_by("created_at", "id")
        )
        if not pending:
            return 0
        emails.digest_email(user, pending, preference.language).send()
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(emailed_at=timezone.now())
    return len(pending)


def digests_due() -> list[int]:
    """Users who want a daily digest and have something unread and not yet e-mailed."""
    return sorted(
        set(
            Notification.objects.filter(
                emailed_at__isnull=True,
                read_at__isnull=True,
                recipient__notification_preference__email=NotificationPreference.Email.DAILY,
            ).values_list("recipient_id", flat=True)
        )
    )


def emails_overdue(*, now: datetime.datetime | None = None) -> list[int]:
    """Notifications of users who want e-mails at once that are still unsent a while after they
    were made (their task was lost with a broker that was down); at most two days back."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            emailed_at__isnull=True,
            created_at__lte=now - EMAIL_GRACE,
            created_at__gte=now - datetime.timedelta(days=2),
        )
        .exclude(
            recipient__notification_preference__email__in=[
                NotificationPreference.Email.DAILY,
                NotificationPreference.Email.NONE,
            ]
        )
        .values_list("pk", flat=True)
    )
