"""`reports.report_version()` moves when something a report shows by name changes, once the
change commits (real commits here: the bump is an on-commit callback)."""

import pytest
from django.db import transaction

from indicators.services import funder_goal_update
from projects.services import programme_update
from reporting.models import ReportContentVersion
from reporting.reports import report_version
from tests.factories import FunderGoalFactory, IndicatorFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db(transaction=True)


def content_version() -> int:
    return ReportContentVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def test_one_transaction_that_writes_many_objects_moves_the_version_once():
    programme = ProgrammeFactory()
    before = content_version()
    with transaction.atomic():
        IndicatorFactory.create_batch(3, programme=programme)
        programme_update(programme=programme, name_en="Renamed programme")
        assert content_version() == before  # not before the commit
    assert content_version() == before + 1


def test_a_rolled_back_edit_leaves_the_version_alone():
    goal = FunderGoalFactory()
    before = report_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        funder_goal_update(funder_goal=goal, title_en="Never seen")
        raise RuntimeError
    assert report_version() == before


@pytest.mark.parametrize("action", ["save", "delete"])
def test_saving_or_deleting_an_indicator_moves_the_version(action):
    indicator = IndicatorFactory()
    before = report_version()
    getattr(indicator, action)()
    assert report_version() != before
