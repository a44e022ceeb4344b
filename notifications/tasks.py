"""Celery tasks of notifications: thin, take ids, idempotent (docs/reporting-cycle.md).

`send_email` and `send_digest` retry when the mail server or the database is away for a moment;
a notification is e-mailed at most once whatever the retries. The daily jobs (beat) are safe to
run any number of times: reminders are unique per recipient, stage and cell; a digest lists only
what no e-mail has listed yet.
"""

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, smtplib.SMTPException, ConnectionError, OSError)
RETRY_OPTIONS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(name=services.SEND_EMAIL_TASK, **RETRY_OPTIONS)
def send_email(notification_id: int) -> bool:
    return services.notification_email_send(notification_id=notification_id)


@shared_task(name=services.SEND_INVITATION_TASK, **RETRY_OPTIONS)
def send_invitation(invitation_id: int) -> bool:
    return services.invitation_email_send(invitation_id=invitation_id)


@shared_task(name=services.SEND_DIGEST_TASK, **RETRY_OPTIONS)
def send_digest(user_id: int) -> int:
    return services.digest_send(user_id=user_id)


@shared_task(name="notifications.send_digests")
def send_digests() -> int:
    """Daily: one digest task per user who wants one and has something new; and the immediate
    e-mails whose task was lost (a broker that was down when they were made)."""
    queue = settings.CELERY_NOTIFICATIONS_QUEUE
    users = services.digests_due()
    for user_id in users:
        send_digest.apply_async(args=[user_id], queue=queue)
    for notification_id in services.emails_overdue():
        send_email.apply_async(args=[notification_id], queue=queue)
    return len(users)


@shared_task(name="notifications.send_reminders", **RETRY_OPTIONS)
def send_reminders() -> int:
    """Daily: due-soon and overdue reminders for every missing result."""
    created = services.reminders_send(today=timezone.localdate())
    logger.info("Created %s reminders.", created)
    return created
