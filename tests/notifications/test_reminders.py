"""Daily reminders (docs/reporting-cycle.md): once per recipient, stage and cell, to the people
who report that cell, however often the job runs.

Programme P (2025, quarterly, due 30 days after a quarter) is a twinning of X, Y and Z.
Indicator A belongs to a workstream (the municipalities' own work); indicator B measures the
programme as a whole (no workstream). X and Y have an editor each; Z has none; the implementer
has an editor; X also has a viewer. X has already submitted A's first quarter.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from indicators.models import Result
from notifications.models import Notification
from notifications.services import reminders_send
from notifications.tasks import send_reminders
from partners.models import Membership
from tests import factories as f

pytestmark = pytest.mark.django_db
Q1 = (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))


@pytest.fixture
def cycle():
    class C:
        pass

    c = C()
    c.implementer = f.ImplementerFactory()
    c.programme = f.ProgrammeFactory(
        implementer=c.implementer, start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2025, 12, 31)
    )
    c.x, c.y, c.z = (f.MunicipalityFactory(name_en=name) for name in ("X", "Y", "Z"))
    f.TwinningFactory(programme=c.programme, municipalities=[c.x, c.y, c.z])
    workstream = f.WorkstreamFactory(programme=c.programme, municipalities=[c.x])
    c.a = f.IndicatorFactory(programme=c.programme, workstream=workstream, code="A")
    c.b = f.IndicatorFactory(programme=c.programme, code="B")
    c.users = {}
    for name, organisation, role in (
        ("x_editor", c.x, Membership.Role.EDITOR),
        ("x_viewer", c.x, Membership.Role.VIEWER),
        ("y_editor", c.y, Membership.Role.EDITOR),
        ("implementer_editor", c.implementer, Membership.Role.EDITOR),
    ):
        c.users[name] = f.UserFactory(username=name)
        f.MembershipFactory(user=c.users[name], organisation=organisation, role=role)
    f.ResultFactory(
        indicator=c.a, municipality=c.x, period_start=Q1[0], period_end=Q1[1], status=Result.Status.SUBMITTED
    )
    return c


def reminders(kind):
    return sorted(
        Notification.objects.filter(kind=kind).values_list(
            "recipient__username", "indicator__code", "municipality__name_en"
        )
    )


def test_due_soon_then_overdue_each_once_to_the_right_people(cycle):
    assert reminders_send(today=datetime.date(2025, 4, 22)) == 0  # 30 April is eight days away
    assert reminders_send(today=datetime.date(2025, 4, 25)) == 5
    due = [
        ("implementer_editor", "A", "Z"),  # Z has no editor: the implementer's editors report it
        ("implementer_editor", "B", "X"),
        ("implementer_editor", "B", "Y"),
        ("implementer_editor", "B", "Z"),
        ("y_editor", "A", "Y"),
    ]
    assert reminders(Notification.Kind.REPORT_DUE) == due
    # Run again the same day, the next day, and as a task: nothing new.
    assert reminders_send(today=datetime.date(2025, 4, 25)) == 0
    assert reminders_send(today=datetime.date(2025, 4, 26)) == 0
    assert reminders(Notification.Kind.REPORT_DUE) == due
    # Y reports A before the due date passes: no overdue reminder for it.
    f.ResultFactory(
        indicator=cycle.a, municipality=cycle.y, period_start=Q1[0], period_end=Q1[1], status=Result.Status.APPROVED
    )
    assert reminders_send(today=datetime.date(2025, 5, 1)) == 4
    assert reminders(Notification.Kind.REPORT_OVERDUE) == due[:4]
    assert reminders_send(today=datetime.date(2025, 5, 2)) == 0


def test_the_reminder_says_when_and_links_to_the_cell(cycle):
    reminders_send(today=datetime.date(2025, 4, 25))
    notification = Notification.objects.get(recipient=cycle.users["y_editor"])
    assert notification.message.startswith("Results of A ")
    assert "for Y, " in notification.message and "are due on 30/04/2025" in notification.message
    assert notification.url == (
        f"/en/results/enter/?indicator={cycle.a.pk}&municipality={cycle.y.pk}&period=2025-01-01#total-value"
    )
    assert (notification.period_start, notification.period_end) == Q1


def test_a_disaggregated_value_alone_does_not_count_as_reported(cycle):
    f.ResultFactory(
        indicator=cycle.a,
        municipality=cycle.y,
        period_start=Q1[0],
        period_end=Q1[1],
        status=Result.Status.SUBMITTED,
        disaggregation_category="sex",
        disaggregation_option="female",
        value=Decimal(2),
    )
    reminders_send(today=datetime.date(2025, 4, 25))
    assert ("y_editor", "A", "Y") in reminders(Notification.Kind.REPORT_DUE)


def test_the_daily_task_reminds_of_what_is_due_from_today(cycle):
    # A monthly indicator whose last month's results are due in three days.
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    programme = f.ProgrammeFactory(
        implementer=cycle.implementer,
        start_date=last_month_end.replace(day=1),
        end_date=today,
        reporting_due_days=(today + datetime.timedelta(days=3) - last_month_end).days,
    )
    f.TwinningFactory(programme=programme, municipalities=[cycle.x])
    f.IndicatorFactory(programme=programme, code="M", frequency="monthly")
    assert send_reminders() == 1
    assert send_reminders() == 0
    assert reminders(Notification.Kind.REPORT_DUE) == [("implementer_editor", "M", "X")]
