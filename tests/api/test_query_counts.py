"""Every list endpoint runs the same number of queries for 1 object and for 50."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from indicators.models import Alignment
from partners.models import Membership
from rollups.engine import recompute_indicators
from tests import factories as f
from tests.roles import disaggregation_categories

pytestmark = pytest.mark.django_db

RESOURCES = [
    "memberships",
    "organisations",
    "programmes",
    "twinnings",
    "themes",
    "workstreams",
    "activities",
    "national-targets",
    "funder-goals",
    "indicators",
    "alignments",
    "targets",
    "results",
    "rollups",
]


def build(n: int):
    """n of everything, visible to a donor member who is also its admin."""
    categories = disaggregation_categories()
    donor = f.DonorFactory()
    user = f.UserFactory(username=f"donor{n}")
    f.MembershipFactory(user=user, organisation=donor, role=Membership.Role.ADMIN)
    for _i in range(n - 1):
        f.MembershipFactory(organisation=donor)
    programme = f.ProgrammeFactory(donors=[donor])
    for _i in range(n - 1):
        f.ProgrammeFactory(donors=[donor])
    theme = f.ThemeFactory()
    for _i in range(n):
        a, b = f.MunicipalityFactory(), f.MunicipalityFactory()
        twinning = f.TwinningFactory(programme=programme, municipalities=[a, b])
        workstream = f.WorkstreamFactory(programme=programme, twinning=twinning, theme=theme, municipalities=[a, b])
        f.ActivityFactory(workstream=workstream, municipality=a)
        f.NationalTargetFactory()
        goal = f.FunderGoalFactory(donor=donor)
        indicator = f.IndicatorFactory(programme=programme, workstream=workstream)
        indicator.disaggregations.set(categories.values())
        Alignment.objects.create(indicator=indicator, funder_goal=goal)
        f.TargetFactory(indicator=indicator)
        f.ResultFactory(indicator=indicator, municipality=a, status="approved")
    if n > 1:  # themes, organisations: a few more so that the page is full
        for _i in range(n):
            f.ThemeFactory()
    recompute_indicators(list(programme.indicators.values_list("pk", flat=True)))
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def queries(client, resource):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/{resource}/", {"page_size": 50})
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["results"])


def test_lists_cost_the_same_for_1_and_50_objects():
    small = build(1)
    measured = {resource: queries(small, resource) for resource in RESOURCES}
    large = build(50)
    for resource in RESOURCES:
        few, few_rows = measured[resource]
        many, many_rows = queries(large, resource)
        assert many_rows > few_rows, resource
        assert many == few, (resource, few, many)
