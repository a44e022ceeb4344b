"""E-mails through a real SMTP server (aiosmtpd, started by the test): in the recipient's
language (Arabic right to left), at most once each, as a daily digest for those who want one,
and never at the cost of the action that caused them."""

import pytest
from django.db import transaction

from indicators.models import Result
from indicators.services import result_return, result_submit
from notifications.models import Notification
from notifications.services import digest_send, digests_due, notification_email_send, preference_update
from tests.mail import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned(world):
    """X's draft, submitted by its editor and returned by the ministry with a comment."""
    editor = world.users["municipality_x_editor"]
    result = result_submit(result=world.results["x_draft"], user=editor)
    result_return(result=result, user=world.users["ministry_approver"], comment="أرفقوا قائمة الحضور")
    return Notification.objects.get(kind=Notification.Kind.RESULT_RETURNED, recipient=editor)


def test_an_english_email_with_a_link_to_the_cell(world, smtp_server, settings):
    settings.SITE_URL = "https://twinning.example.org"
    editor = world.users["municipality_x_editor"]
    result = result_submit(result=world.results["x_draft"], user=editor)
    result_return(result=result, user=world.users["ministry_approver"], comment="Attach the attendance list")
    notification = Notification.objects.get(kind=Notification.Kind.RESULT_RETURNED)
    assert notification_email_send(notification_id=notification.pk) is True
    (mail,) = smtp_server.received
    assert mail.envelope_to == [editor.email]
    assert mail.subject == "Twinning: Results returned: P1-1, Ghadames"
    assert "ministry_approver returned results of P1-1" in mail.text
    assert "Attach the attendance list" in mail.text
    link = f"https://twinning.example.org/en/results/enter/?indicator={result.indicator_id}"
    assert link in mail.text
    assert 'dir="ltr"' in mail.html and link.replace("&", "&amp;") in mail.html
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_an_arabic_email_reads_right_to_left(world, smtp_server, returned):
    preference_update(user=returned.recipient, language="ar")
    notification_email_send(notification_id=returned.pk)
    (mail,) = smtp_server.received
    assert mail.subject.startswith("التوأمة: ")
    assert "غدامس" in mail.subject
    assert "أرفقوا قائمة الحضور" in mail.text and "مرحباً" in mail.text
    assert '<html lang="ar" dir="rtl">' in mail.html and '<body dir="rtl">' in mail.html
    assert mail.message["Content-Language"] == "ar"


def test_each_notification_is_emailed_once(world, smtp_server, returned):
    assert notification_email_send(notification_id=returned.pk) is True
    assert notification_email_send(notification_id=returned.pk) is False
    assert len(smtp_server.received) == 1


def test_no_email_for_those_who_want_none_and_a_digest_for_those_who_want_one(world, smtp_server, returned):
    editor = returned.recipient
    preference_update(user=editor, email="none")
    assert notification_email_send(notification_id=returned.pk) is False
    preference_update(user=editor, email="daily")
    assert notification_email_send(notification_id=returned.pk) is False
    result = Result.objects.get(pk=world.results["x_draft"].pk)
    result = result_submit(result=result, user=editor)
    from indicators.services import result_approve

    result_approve(result=result, user=world.users["ministry_approver"])
    assert digests_due() == [editor.pk]
    assert digest_send(user_id=editor.pk) == 2
    assert digest_send(user_id=editor.pk) == 0
    (mail,) = smtp_server.received
    assert mail.subject == "Twinning: 2 new notifications"
    assert "Attach" not in mail.text and "أرفقوا قائمة الحضور" in mail.text
    assert "ministry_approver approved results of P1-1" in mail.text
    assert digests_due() == []


def test_a_mail_server_that_is_down_leaves_the_notification_to_retry(world, returned, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    with pytest.raises(OSError):
        notification_email_send(notification_id=returned.pk)
    returned.refresh_from_db()
    assert returned.emailed_at is None


@pytest.mark.django_db(transaction=True)
def test_the_users_action_stands_when_mail_cannot_be_sent(world, settings):
    """Even with tasks run in-process on commit (the demo), a refused e-mail does not undo or fail
    the action."""
    from twinning.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with transaction.atomic():
            result = result_submit(result=world.results["x_draft"], user=world.users["municipality_x_editor"])
    finally:
        app.conf.task_always_eager = previous
    assert Result.objects.get(pk=result.pk).status == Result.Status.SUBMITTED
    assert Notification.objects.filter(kind=Notification.Kind.RESULT_SUBMITTED, emailed_at__isnull=True).count() == 3
