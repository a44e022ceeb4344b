"""`results_create(submitted_at=...)`, the demo seed's way to write results sent in the past
(docs/reporting-cycle.md): the submission, the review of results created approved and their
history carry that time; a draft, a time to come or a period not started by then is refused."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from indicators.models import Result
from indicators.services import BulkValidationError, ResultRow, results_create
from tests.roles import build_world

pytestmark = pytest.mark.django_db

Q3 = (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30))
SENT = timezone.make_aware(datetime.datetime(2025, 10, 15, 10, 0))


@pytest.fixture
def world():
    return build_world()


def row(world, period=Q3, **values):
    return ResultRow(
        indicator_id=world.indicators["p1"].pk,
        municipality_id=world.orgs["x"].pk,
        period_start=period[0],
        period_end=period[1],
        value=values.get("value", Decimal("12")),
    )


def test_results_sent_in_the_past_carry_that_time_and_their_history_too(world):
    (result,) = results_create(
        rows=[row(world)], user=world.users["superuser"], status=Result.Status.APPROVED, submitted_at=SENT
    )
    result.refresh_from_db()
    assert result.first_submitted_at == result.submitted_at == result.reviewed_at == SENT
    assert result.history.get().history_date == SENT
    (sent,) = results_create(
        rows=[row(world, period=(datetime.date(2025, 10, 1), datetime.date(2025, 12, 31)))],
        user=world.users["municipality_x_editor"],
        status=Result.Status.SUBMITTED,
        submitted_at=SENT + datetime.timedelta(days=90),
    )
    assert (sent.status, sent.first_submitted_at, sent.reviewed_at) == (
        "submitted",
        SENT + datetime.timedelta(days=90),
        None,
    )


def test_without_it_a_submission_is_stamped_now(world):
    before = timezone.now()
    (result,) = results_create(rows=[row(world)], user=world.users["municipality_x_editor"], status="submitted")
    assert result.first_submitted_at >= before


@pytest.mark.parametrize(
    ("status", "submitted_at"),
    [
        (Result.Status.DRAFT, SENT),  # a draft was never sent
        (Result.Status.SUBMITTED, timezone.now() + datetime.timedelta(days=1)),
        (Result.Status.SUBMITTED, datetime.datetime(2025, 10, 15, 10, 0)),  # no time zone
    ],
)
def test_a_draft_a_time_to_come_or_a_naive_time_is_refused(world, status, submitted_at):
    with pytest.raises(ValidationError) as refused:
        results_create(rows=[row(world)], user=world.users["superuser"], status=status, submitted_at=submitted_at)
    assert list(refused.value.message_dict) == ["submitted_at"]
    assert not Result.objects.filter(period_start=Q3[0]).exists()


def test_a_period_that_had_not_started_when_it_was_sent_is_refused(world):
    with pytest.raises(BulkValidationError) as refused:
        results_create(
            rows=[row(world, period=(datetime.date(2025, 10, 1), datetime.date(2025, 12, 31)))],
            user=world.users["superuser"],
            status=Result.Status.SUBMITTED,
            submitted_at=SENT - datetime.timedelta(days=30),
        )
    assert [(e.row, e.field) for e in refused.value.errors] == [(0, "period_start")]
