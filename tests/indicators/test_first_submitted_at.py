"""`Result.first_submitted_at`: set by the first submission and kept through returns and
resubmissions; the data migration fills it for older results from their history."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from indicators.models import Result
from indicators.services import result_return, result_submit
from tests import factories as f

pytestmark = pytest.mark.django_db

migration = importlib.import_module("indicators.migrations.0011_result_first_submitted_at")


@pytest.fixture
def cycle():
    """A result submitted, returned and submitted again."""
    result = f.ResultFactory()
    editor, approver = f.UserFactory(), f.UserFactory()
    result = result_submit(result=result, user=editor)
    first = result.first_submitted_at
    result = result_return(result=result, user=approver, comment="Check it")
    result = result_submit(result=result, user=editor)
    return result, first


def test_the_first_submission_is_kept_through_a_return_and_a_resubmission(cycle):
    result, first = cycle
    assert first is not None
    assert result.first_submitted_at == first
    assert result.submitted_at > first


def test_the_migration_fills_the_first_submission_from_history(cycle):
    result, first = cycle
    never = f.ResultFactory(period_start=datetime.date(2025, 4, 1), period_end=datetime.date(2025, 6, 30))
    no_history = f.ResultFactory(
        period_start=datetime.date(2025, 7, 1),
        period_end=datetime.date(2025, 9, 30),
        status=Result.Status.SUBMITTED,
        submitted_at=timezone.now() - datetime.timedelta(days=3),
    )
    no_history.history.all().delete()  # submitted before history was kept
    Result.objects.update(first_submitted_at=None)
    migration.fill_from_history(apps, None)
    stored = dict(Result.objects.values_list("pk", "first_submitted_at"))
    earliest = result.history.filter(status="submitted").order_by("history_date").first().history_date
    assert stored[result.pk] == earliest
    assert abs(earliest - first) < datetime.timedelta(seconds=5)
    assert stored[never.pk] is None
    assert stored[no_history.pk] == no_history.submitted_at
