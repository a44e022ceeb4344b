"""The dashboards judge progress on one band (docs/design.md §4: on track from 85 to 115 %, both
inclusive), whether the number is a stored rollup's or an aligned progress (§5, capped at 100)."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from lxml import html

from indicators.models import Result
from partners.models import Membership
from rollups.alignment import force_global_snapshot
from rollups.engine import recompute_all
from tests.factories import (
    AlignmentFactory,
    DonorFactory,
    IndicatorFactory,
    MembershipFactory,
    MunicipalityFactory,
    NationalTargetFactory,
    ProgrammeFactory,
    ResultFactory,
    TargetFactory,
    UserFactory,
    WorkstreamFactory,
)

pytestmark = pytest.mark.django_db

# Approved actual against a life-of-programme target of 100 → (rollup status, aligned status).
EDGES = {
    "84.99": ("below", "below"),
    "85": ("on_track", "on_track"),
    "115": ("on_track", "on_track"),
    "115.01": ("above", "on_track"),  # π is capped at 100
}


@pytest.fixture
def edges():
    """One indicator per band edge, each aligned to a national target of its own; the target of
    100 is the municipality's and so also the programme's."""
    donor = DonorFactory()
    programme = ProgrammeFactory(donors=[donor])
    town = MunicipalityFactory()
    WorkstreamFactory(programme=programme, municipalities=[town])
    for actual in EDGES:
        indicator = IndicatorFactory(programme=programme, code=f"E{actual}")
        TargetFactory(indicator=indicator, municipality=town, value=Decimal(100))
        ResultFactory(
            indicator=indicator,
            municipality=town,
            period_start=datetime.date(2025, 1, 1),
            period_end=datetime.date(2025, 3, 31),
            value=Decimal(actual),
            status=Result.Status.APPROVED,
        )
        AlignmentFactory(indicator=indicator, national_target=NationalTargetFactory(code=f"NT{actual}"))
    recompute_all()
    force_global_snapshot()
    cache.clear()
    viewer = MembershipFactory(organisation=donor, role=Membership.Role.VIEWER).user
    return {"donor_viewer": viewer, "superuser": UserFactory(is_superuser=True, is_staff=True), "town": town}


def page(client, user, name):
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    return html.fromstring(response.content.decode())


def test_an_indicator_row_is_judged_on_the_band_edges(client, edges):
    tree = page(client, edges["donor_viewer"], "donor_dashboard")
    for actual, (rollup_status, _aligned) in EDGES.items():
        (row,) = tree.xpath(f'//table[@id="donor-indicators"]//tr[@data-indicator="E{actual}"]')
        badge = row.xpath('.//span[contains(concat(" ", @class, " "), " status ")]')[-1]
        assert badge.get("class").split() == ["status", rollup_status], actual
        assert row.xpath('.//*[contains(@class, "fill")]')[0].get("class").split() == ["fill", rollup_status]
    legend = {
        item.xpath("./span")[0].get("class").split()[1]: item.text_content().split()[-1]
        for item in tree.xpath('//section[@aria-labelledby="programmes-heading"]//ul[@class="legend"]/li')
    }
    assert legend == {"below": "1", "on_track": "2", "above": "1", "no_target": "0", "no_data": "0"}


def test_a_national_target_is_judged_on_the_band_edges(client, edges):
    tree = page(client, edges["superuser"], "ministry_dashboard")
    for actual, (_rollup, aligned_status) in EDGES.items():
        (row,) = tree.xpath(f'//table[@id="national-targets"]//tr[@data-national-target="NT{actual}"]')
        assert row.xpath('.//*[contains(@class, "fill")]')[0].get("class").split() == ["fill", aligned_status]


def test_the_municipality_overview_counts_indicators_by_band(client, edges):
    tree = page(client, edges["superuser"], "ministry_dashboard")
    headers = [th.text_content() for th in tree.xpath('//table[@id="municipality-overview"]/thead//th')]
    assert headers[-3:] == ["Below target", "On track", "Above target"]
    (row,) = tree.xpath('//table[@id="municipality-overview"]/tbody/tr')
    assert [td.text_content() for td in row.xpath("./td")][-3:] == ["1", "2", "1"]
