"""Who hears of a result's moves (docs/reporting-cycle.md): exactly those who may act on it."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from indicators.models import Result
from indicators.services import ResultRow, result_approve, result_return, result_submit, result_update, results_create
from notifications.models import Notification
from notifications.services import preference_update
from tests.roles import Q2

pytestmark = pytest.mark.django_db
ONE_DAY = datetime.timedelta(days=1)


def told(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_a_submission_tells_exactly_those_who_may_approve_it(world):
    result_submit(result=world.results["x_draft"], user=world.users["municipality_x_editor"])
    # The ministry's approver, the approver of P1's implementer and X's own approver. Not Y's
    # approver, not P2's implementer, not a donor, not a superuser without a membership, not an
    # inactive member, not editors, not the submitter.
    assert told(Notification.Kind.RESULT_SUBMITTED) == [
        "implementer_approver",
        "ministry_approver",
        "municipality_x_approver",
    ]
    notification = Notification.objects.get(recipient=world.users["ministry_approver"])
    assert notification.indicator == world.indicators["p1"] and notification.municipality == world.orgs["x"]
    assert notification.url.startswith("/en/results/approvals/?indicator=")
    assert "municipality_x_editor submitted results of P1-1" in notification.message
    assert notification.read_at is None


def test_whoever_entered_or_changed_a_result_is_not_asked_to_approve_it(world):
    draft = world.results["x_draft"]
    # The ministry approver corrected the draft before the editor submitted it.
    draft = result_update(result=draft, user=world.users["ministry_approver"], value=Decimal(4))
    result_submit(result=draft, user=world.users["municipality_x_editor"])
    assert "ministry_approver" not in told(Notification.Kind.RESULT_SUBMITTED)
    assert "implementer_approver" in told(Notification.Kind.RESULT_SUBMITTED)


def test_a_grid_submitted_at_once_is_one_notification_per_approver(world):
    editor = world.users["municipality_x_editor"]
    indicator, x = world.indicators["p1"], world.orgs["x"]
    with transaction.atomic():
        rows = [
            ResultRow(indicator.pk, x.pk, Q2[0], Q2[1], {"sex": option}, value=Decimal(1))
            for option in ("female", "male")
        ]
        created = results_create(rows=rows, user=editor)
        for result in [world.results["x_draft"], *created]:
            result_submit(result=result, user=editor)
    assert Notification.objects.filter(recipient=world.users["ministry_approver"]).count() == 1


def test_a_rolled_back_submission_tells_no_one(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        result_submit(result=world.results["x_draft"], user=world.users["municipality_x_editor"])
        raise RuntimeError
    assert not Notification.objects.exists()


def test_a_return_tells_the_submitter_with_the_comment_in_their_language(world):
    editor = world.users["municipality_x_editor"]
    preference_update(user=editor, language="ar")
    result = result_submit(result=world.results["x_draft"], user=editor)
    result_return(result=result, user=world.users["ministry_approver"], comment="راجعوا قائمة الحضور")
    (notification,) = Notification.objects.filter(kind=Notification.Kind.RESULT_RETURNED)
    assert notification.recipient == editor
    assert notification.language == "ar"
    assert "راجعوا قائمة الحضور" in notification.message
    assert "أعاد" in notification.message and "غدامس" in notification.message
    # The link opens the grid at the cell: indicator, municipality, period, the total's input.
    assert notification.url == (
        f"/ar/results/enter/?indicator={result.indicator_id}&municipality={result.municipality_id}"
        f"&period={Q2[0].isoformat()}#total-value"
    )
    assert notification.parameters["comment"] == "راجعوا قائمة الحضور"


def test_an_approval_tells_the_submitter_and_no_one_else(world):
    editor = world.users["municipality_x_editor"]
    result = result_submit(result=world.results["x_draft"], user=editor)
    result_approve(result=result, user=world.users["implementer_approver"])
    assert told(Notification.Kind.RESULT_APPROVED) == ["municipality_x_editor"]
    message = Notification.objects.get(kind=Notification.Kind.RESULT_APPROVED).message
    assert message.startswith("implementer_approver approved results of P1-1")


def test_results_created_as_submitted_tell_the_approvers_too(world):
    editor = world.users["municipality_x_editor_2"]
    indicator, x = world.indicators["p1"], world.orgs["x"]
    row = ResultRow(indicator.pk, x.pk, Q2[0], Q2[1], {"sex": "female"}, value=Decimal(1))
    results_create(rows=[row], user=editor, status=Result.Status.SUBMITTED)
    assert told(Notification.Kind.RESULT_SUBMITTED) == [
        "implementer_approver",
        "ministry_approver",
        "municipality_x_approver",
    ]


def test_an_approver_who_returned_a_result_hears_of_its_resubmission(world):
    """Returning is reviewing, not changing: the approver is still one to ask."""
    editor, approver = world.users["municipality_x_editor"], world.users["ministry_approver"]
    result = result_submit(result=world.results["x_draft"], user=editor)
    result = result_return(result=result, user=approver, comment="Recount")
    result = result_update(result=result, user=editor, value=Decimal(5))
    result_submit(result=result, user=editor)
    assert Notification.objects.filter(recipient=approver, kind=Notification.Kind.RESULT_SUBMITTED).count() == 2


def test_a_savepoint_rolled_back_does_not_silence_a_later_attempt(world):
    """The approval queue reviews each block in its own savepoint: a block refused halfway and
    submitted again in the same transaction still tells the approvers."""
    editor = world.users["municipality_x_editor"]
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            result_submit(result=world.results["x_draft"], user=editor)
            raise RuntimeError
        result_submit(result=Result.objects.get(pk=world.results["x_draft"].pk), user=editor)
    assert Notification.objects.filter(recipient=world.users["ministry_approver"]).count() == 1


def test_a_bulk_submission_tells_each_approver_once_per_block_in_a_fixed_number_of_queries(world):
    """The write path sends one signal for everything a write moved: two cells or twelve cost the
    same number of queries, and each approver hears once per cell."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from indicators.services import results_upsert
    from tests import factories as f

    editor = world.users["municipality_x_editor"]
    x = world.orgs["x"]

    def submit(months: int) -> int:
        indicator = f.IndicatorFactory(programme=world.programmes["p1"], frequency="monthly")
        rows = [
            ResultRow(indicator.pk, x.pk, start, end, {}, value=Decimal(month))
            for month in range(1, months + 1)
            for start, end in [(datetime.date(2025, month, 1), datetime.date(2025, month + 1, 1) - ONE_DAY)]
        ]
        with CaptureQueriesContext(connection) as queries:
            results_upsert(rows=rows, user=editor, status=Result.Status.SUBMITTED)
        told = Notification.objects.filter(indicator=indicator, kind=Notification.Kind.RESULT_SUBMITTED)
        assert told.filter(recipient=world.users["ministry_approver"]).count() == months
        return len(queries)

    assert submit(2) == submit(11)
