"""Every page runs a bounded number of queries: the same count for the roles world and for ten
times as much data (asserted, not timed)."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.models import Result
from projects.models import Activity
from tests import factories as f
from tests.roles import Q1, Q2

from .conftest import recompute

pytestmark = pytest.mark.django_db


def grow(world, times: int) -> None:
    """Add `times` more programmes like P1 (same donor, implementer, municipalities, goal and
    national target), each with an indicator, targets, results in every status and an activity."""
    sex = world.indicators["p1"].disaggregations.all()
    for n in range(times):
        programme = f.ProgrammeFactory(
            implementer=world.orgs["implementer"], counterpart=world.orgs["ministry"], donors=[world.orgs["donor_a"]]
        )
        twinning = f.TwinningFactory(programme=programme, municipalities=[world.orgs["x"], world.orgs["y"]])
        workstream = f.WorkstreamFactory(programme=programme, twinning=twinning, municipalities=[world.orgs["x"]])
        f.ActivityFactory(workstream=workstream, municipality=world.orgs["x"])
        indicator = f.IndicatorFactory(programme=programme, code=f"G-{n}")
        indicator.disaggregations.set(sex)
        f.TargetFactory(indicator=indicator, period_start=Q1[0], period_end=Q1[1], value=Decimal("50"))
        for municipality, status in (("x", Result.Status.APPROVED), ("y", Result.Status.SUBMITTED)):
            f.ResultFactory(
                indicator=indicator, municipality=world.orgs[municipality], value=Decimal("9"), status=status
            )
            f.ResultFactory(
                indicator=indicator,
                municipality=world.orgs[municipality],
                value=Decimal("4"),
                status=status,
                disaggregation_category="sex",
                disaggregation_option="female",
            )
        f.ResultFactory(
            indicator=indicator,
            municipality=world.orgs["x"],
            period_start=Q2[0],
            period_end=Q2[1],
            status=Result.Status.SUBMITTED,
        )
        f.AlignmentFactory(indicator=indicator, national_target=world.national_target)
        f.AlignmentFactory(indicator=indicator, national_target=None, funder_goal=world.funder_goals["a"])
    recompute()


PAGES = [
    ("ministry_viewer", lambda w: reverse("ministry_dashboard")),
    ("donor_a_viewer", lambda w: reverse("donor_dashboard")),
    ("implementer_editor", lambda w: reverse("programme_list")),
    ("donor_a_viewer", lambda w: reverse("programme_detail", args=[w.programmes["p1"].pk])),
    (
        "donor_a_viewer",
        lambda w: (
            f"{reverse('programme_detail', args=[w.programmes['p1'].pk])}?scope=twinning"
            f"&scope_id={w.twinnings['p1'].pk}&as_of=2025-06-30&disaggregated=1"
        ),
    ),
    ("ministry_viewer", lambda w: reverse("municipality_list")),
    ("municipality_x_editor", lambda w: reverse("municipality_detail", args=[w.orgs["x"].pk])),
    ("ministry_viewer", lambda w: reverse("activity_list")),
    # Every activity grown below is the implementer's to edit: one link per row, not a query.
    ("implementer_editor", lambda w: reverse("activity_list")),
    ("municipality_x_editor", lambda w: reverse("activity_create")),
    (
        "municipality_x_editor",
        lambda w: reverse("activity_update", args=[Activity.objects.get(workstream=w.workstreams["p1"]).pk]),
    ),
    (
        "municipality_x_editor",
        lambda w: f"{reverse('result_entry')}?indicator={w.indicators['p1'].pk}&period={Q2[0].isoformat()}",
    ),
    ("ministry_approver", lambda w: reverse("approval_queue")),
    ("ministry_viewer", lambda w: reverse("result_history", args=[w.results["x"].pk])),
    ("implementer_editor", lambda w: f"{reverse('spreadsheet')}?programme={w.programmes['p1'].pk}"),
    (
        "municipality_x_editor",
        lambda w: f"{reverse('spreadsheet')}?programme={w.programmes['p1'].pk}&on={Q2[0].isoformat()}&download=1",
    ),
]


def count(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def test_every_page_runs_the_same_number_of_queries_at_ten_times_the_data(world, client_for):
    # One submission waiting, so the approval queue is measured with content both times.
    Result.objects.filter(pk=world.results["x_draft"].pk).update(status=Result.Status.SUBMITTED)
    clients = {}
    before = {}
    for index, (role, make_url) in enumerate(PAGES):
        clients[role] = clients.get(role) or client_for(role)
        before[index] = count(clients[role], make_url(world))
    grow(world, 10)
    after = {index: count(clients[role], make_url(world)) for index, (role, make_url) in enumerate(PAGES)}
    report = {make_url(world): (before[i], after[i]) for i, (_role, make_url) in enumerate(PAGES)}
    assert before == after, report
    assert max(after.values()) <= 40, report
