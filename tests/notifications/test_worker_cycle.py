"""One period through the reporting cycle with a real Celery worker (subprocess), real Redis and a
real SMTP server, no eager mode: the due reminder, a submission that tells only the right
approvers, a return that tells the submitter in Arabic with the comment, the resubmission, the
approval, and completeness moving from missing to on time — checked through the API, the pages
and the e-mails that arrived.

The programme started on the first day of last month; its results are due three days from today,
so last month is the one period that has ended, and it is due soon.
"""

import datetime
import os
import subprocess
import uuid

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from indicators.models import Result
from notifications.models import Notification
from notifications.services import preference_update
from partners.models import Membership
from tests import factories as f
from tests.mail import SMTPServer, free_port
from tests.rollups.test_worker_rollups import CELERY, ROOT, database_url, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queues():
    suffix = uuid.uuid4().hex[:10]
    names = {"notifications": f"notify-test-{suffix}", "rollups": f"rollups-test-{suffix}"}
    with override_settings(CELERY_NOTIFICATIONS_QUEUE=names["notifications"], CELERY_ROLLUP_QUEUE=names["rollups"]):
        yield names
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for name in names.values():
        broker.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


@pytest.fixture
def smtp_server():
    server = SMTPServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def worker(queues, smtp_server, tmp_path):
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "twinning.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_ROLLUP_QUEUE": queues["rollups"],
        "CELERY_NOTIFICATIONS_QUEUE": queues["notifications"],
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_URL": smtp_server.url,
        "SITE_URL": "https://twinning.example.org",
        "DB_CONN_MAX_AGE": "0",
    }
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(CELERY), "-A", "twinning", "worker", "-Q", f"{queues['notifications']},{queues['rollups']}",
             "-c", "1", "-n", f"{queues['notifications']}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(lambda: b" ready." in log_path.read_bytes(), "the worker to start")
        yield process
    finally:
        os.killpg(process.pid, 9)
        process.wait(timeout=10)


@pytest.fixture
def people():
    """Who is who: a ministry approver and viewer; the implementer's approver and editor; X's
    editor (who reads Arabic) and approver; Y's approver, who has nothing to do with X's results
    but may enter Y's."""
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    ministry, implementer = f.MinistryFactory(), f.ImplementerFactory()
    x = f.MunicipalityFactory(name_en="Ghadames", name_ar="غدامس")
    y = f.MunicipalityFactory(name_en="Tinley Park", country="US")
    programme = f.ProgrammeFactory(
        implementer=implementer,
        start_date=last_month_end.replace(day=1),
        end_date=today + datetime.timedelta(days=365),
        reporting_due_days=(today + datetime.timedelta(days=3) - last_month_end).days,
    )
    f.TwinningFactory(programme=programme, municipalities=[x, y])
    workstream = f.WorkstreamFactory(programme=programme, municipalities=[x])
    indicator = f.IndicatorFactory(
        programme=programme, workstream=workstream, code="M-1", name_en="Staff trained", frequency="monthly"
    )
    users = {}
    for name, organisation, role in (
        ("amina", ministry, Membership.Role.APPROVER),
        ("mustafa", ministry, Membership.Role.VIEWER),
        ("ibrahim", implementer, Membership.Role.APPROVER),
        ("idris", implementer, Membership.Role.EDITOR),
        ("khaled", x, Membership.Role.EDITOR),
        ("xavier", x, Membership.Role.APPROVER),
        ("yusuf", y, Membership.Role.APPROVER),
    ):
        users[name] = f.UserFactory(username=name)
        f.MembershipFactory(user=users[name], organisation=organisation, role=role)
    preference_update(user=users["khaled"], language="ar")
    return {
        "users": users,
        "x": x,
        "y": y,
        "programme": programme,
        "indicator": indicator,
        "period": (last_month_end.replace(day=1), last_month_end),
        "due": today + datetime.timedelta(days=3),
    }


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def mails_to(server, name):
    return server.to(f"{name}@example.org")


def completeness_of(people, user):
    """(on time, late, missing) by municipality, as of the due date."""
    report = api(user).get(
        "/api/v1/reports/completeness/", {"programme": people["programme"].pk, "as_of": people["due"].isoformat()}
    )
    return {row["municipality_name"]: (row["on_time"], row["late"], row["missing"]) for row in report.json()["rows"]}


class Inbox:
    """The e-mails that arrive from now on, a batch at a time."""

    def __init__(self, server: SMTPServer):
        self.server, self.seen = server, 0

    def next(self, count: int) -> list:
        self.server.wait_for(self.seen + count)
        batch = self.server.received[self.seen : self.seen + count]
        self.seen += count
        return batch

    @staticmethod
    def who(batch) -> list[str]:
        return sorted(mail.envelope_to[0].split("@")[0] for mail in batch)


def test_a_period_through_the_reporting_cycle(worker, queues, smtp_server, people):
    users, indicator, period = people["users"], people["indicator"], people["period"]
    amina, inbox = users["amina"], Inbox(smtp_server)
    assert completeness_of(people, amina) == {"Ghadames": (0, 0, 1), "Tinley Park": (0, 0, 1)}

    # 1. The daily reminder job (as beat sends it) reminds whoever may enter each cell: X's
    #    editor (in Arabic) and approver; Y's approver. Not the implementer's editor: both
    #    municipalities have someone. A second run sends nothing more.
    from notifications.tasks import send_reminders

    send_reminders.apply_async(queue=queues["notifications"])
    reminders = inbox.next(3)
    assert inbox.who(reminders) == ["khaled", "xavier", "yusuf"]
    (reminder,) = [mail for mail in reminders if mail.envelope_to == ["khaled@example.org"]]
    assert reminder.subject.startswith("التوأمة: نتائج مستحقة في") and "M-1" in reminder.subject
    assert '<body dir="rtl">' in reminder.html and "غدامس" in reminder.text
    assert "https://twinning.example.org/ar/results/enter/?indicator=" in reminder.text
    send_reminders.apply_async(queue=queues["notifications"])

    # 2. X's editor submits the period from the Arabic grid page: only those who may approve
    #    it hear (the ministry's approver, the implementer's, X's), not Y's approver, the
    #    ministry's viewer, the implementer's editor or the submitter.
    khaled = Client()
    khaled.force_login(users["khaled"])
    grid = f"/ar/results/enter/?indicator={indicator.pk}&municipality={people['x'].pk}&period={period[0].isoformat()}"
    assert 'id="total-value"' in khaled.get(grid).content.decode()
    response = khaled.post(
        "/ar/results/enter/",
        {
            "indicator": indicator.pk,
            "municipality": people["x"].pk,
            "period": period[0].isoformat(),
            "action": "submit",
            "total-value": "12",
        },
    )
    assert response.status_code == 302
    result = Result.objects.get(indicator=indicator, municipality=people["x"], disaggregation_category="")
    assert result.status == Result.Status.SUBMITTED
    assert inbox.who(inbox.next(3)) == ["amina", "ibrahim", "xavier"]
    body = api(amina).get("/api/v1/notifications/").json()
    assert body["unread"] == 1 and body["results"][0]["kind"] == "result_submitted"
    assert body["results"][0]["url"].startswith("/en/results/approvals/?indicator=")
    assert "khaled submitted results of M-1 Staff trained for Ghadames" in body["results"][0]["message"]

    # 3. The ministry returns it with a comment in Arabic: X's editor hears, with the comment,
    #    in Arabic, by e-mail and on his notifications page.
    comment = "يرجى إرفاق قائمة الحضور"
    response = api(amina).post(f"/api/v1/results/{result.pk}/return/", {"comment": comment}, format="json")
    assert response.status_code == 200, response.json()
    (returned,) = inbox.next(1)
    assert returned.envelope_to == ["khaled@example.org"] and "نتائج مُعادة" in returned.subject
    assert comment in returned.text and comment in returned.html and 'dir="rtl"' in returned.html
    page = khaled.get("/ar/notifications/").content.decode()
    assert comment in page and "أعاد amina نتائج المؤشر M-1" in page

    # 4. He corrects and submits again, through the API: the approvers hear again.
    response = api(users["khaled"]).patch(f"/api/v1/results/{result.pk}/", {"value": "14"}, format="json")
    assert response.status_code == 200, response.json()
    assert api(users["khaled"]).post(f"/api/v1/results/{result.pk}/submit/").status_code == 200
    assert inbox.who(inbox.next(3)) == ["amina", "ibrahim", "xavier"]

    # 5. The implementer's approver approves: the submitter hears, and no one else.
    assert api(users["ibrahim"]).post(f"/api/v1/results/{result.pk}/approve/").status_code == 200
    (approved,) = inbox.next(1)
    assert approved.envelope_to == ["khaled@example.org"] and "نتائج معتمدة" in approved.subject

    # 6. Completeness as of the due date: X on time (first submitted before it), Y missing.
    assert completeness_of(people, amina) == {"Ghadames": (1, 0, 0), "Tinley Park": (0, 0, 1)}
    national = api(amina).get("/api/v1/reports/completeness/", {"as_of": people["due"].isoformat()}).json()
    assert national["totals"]["national"]["rate"] == "0.5"
    assert Notification.objects.filter(kind="report_due").count() == 3  # the second run added none
    assert len(smtp_server.received) == inbox.seen  # and nothing else was sent
