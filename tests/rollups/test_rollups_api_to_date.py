"""rollups/ (docs/design.md §6): LoP rows also carry target_to_date, percent_to_date and
status_to_date (and the date they were computed as of); period rows have none, in the API and in
the database."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rollups import engine
from rollups.models import Rollup
from tests.factories import IndicatorFactory, MunicipalityFactory, ResultFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_urls(settings):
    settings.ROOT_URLCONF = "tests.api.urls"


@pytest.fixture
def indicator():
    """A target of 100 in each quarter of 2025 and 2035; 90 reported in the first: on track to date
    as of today (only 2025's quarter has ended), below over the life of the programme."""
    indicator = IndicatorFactory(lop_target=None)
    town = MunicipalityFactory()
    for year in (2025, 2035):
        TargetFactory(
            indicator=indicator, period_start=datetime.date(year, 1, 1), period_end=datetime.date(year, 3, 31)
        )
    ResultFactory(indicator=indicator, municipality=town, value=Decimal(90), status="approved")
    engine.recompute_indicators([indicator.id])
    return indicator


def client() -> APIClient:
    api = APIClient()
    token, _ = Token.objects.get_or_create(user=UserFactory(is_superuser=True))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def test_lop_rows_show_progress_to_date_and_period_rows_none(api_urls, indicator):
    rows = client().get("/api/v1/rollups/", {"indicator": indicator.id, "scope": "programme"}).json()["results"]
    lop = next(row for row in rows if row["period_start"] is None)
    assert (lop["target"], lop["percent_of_target"], lop["status"]) == ("200.000000", "45.00", "below")
    assert (lop["target_to_date"], lop["percent_to_date"], lop["status_to_date"]) == ("100.000000", "90.00", "on_track")
    assert lop["as_of"] == timezone.localdate().isoformat()
    periods = [row for row in rows if row["period_start"] is not None]
    assert len(periods) == 2
    assert all(
        (row["target_to_date"], row["percent_to_date"], row["status_to_date"], row["as_of"]) == (None,) * 4
        for row in periods
    )
    one = client().get(f"/api/v1/rollups/{lop['id']}/").json()
    assert one["status_to_date"] == "on_track"
    on_track = client().get("/api/v1/rollups/", {"indicator": indicator.id, "status_to_date": "on_track"}).json()
    assert [row["id"] for row in on_track["results"]] == [lop["id"]]


def test_a_period_row_cannot_hold_progress_to_date(indicator):
    period = Rollup.objects.filter(indicator=indicator, period_start__isnull=False).first()
    period.status_to_date = "below"
    with pytest.raises(IntegrityError), transaction.atomic():
        period.save()
