"""The completeness page: the same report as reports/completeness/, for what the user sees, in
both languages, in a fixed number of queries."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators.models import Result
from reporting.reports import clear_local_cache
from tests import factories as f

pytestmark = pytest.mark.django_db
AS_OF = "2025-05-15"  # the first quarter of 2025 (due 30 April) is expected, the second is not


def url(language="en", **query):
    with translation.override(language):
        base = reverse("completeness")
    return f"{base}?" + "&".join(f"{k}={v}" for k, v in {"as_of": AS_OF, **query}.items())


@pytest.fixture
def reported(world):
    """X reported its first quarter on 10 April; Y's and Z's came in only now."""
    on_time = datetime.datetime(2025, 4, 10, 9, 0, tzinfo=ZoneInfo("Africa/Tripoli"))
    Result.objects.filter(pk=world.results["x"].pk).update(first_submitted_at=on_time)
    cache.clear()
    clear_local_cache()
    return world


def national(html):
    block = re.search(r'<dl class="meta card" id="national">(.*?)</dl>', html, re.S).group(1)
    return re.findall(r"<bdi>([^<]+)</bdi>", block)


def test_the_ministry_sees_every_programme_and_a_donor_its_own(reported, client_for):
    html = client_for("ministry_viewer").get(url()).content.decode()
    assert national(html) == ["3", "1", "0", "2", "33.3\xa0%"]  # expected, on time, late, missing, rate
    assert "Ghadames" in html and "Tinley Park" in html and "Municipality Z" in html
    assert 'href="/api/v1/reports/completeness/?as_of=2025-05-15&amp;format=csv&amp;lang=en"' in html
    html = client_for("donor_a_viewer").get(url()).content.decode()
    assert national(html) == ["2", "1", "0", "1", "50.0\xa0%"] and "Municipality Z" not in html
    html = client_for("ministry_viewer").get(url(programme=reported.programmes["p2"].pk)).content.decode()
    assert national(html) == ["1", "0", "0", "1", "0.0\xa0%"]


def test_the_page_in_arabic(reported, client_for):
    html = client_for("municipality_x_editor").get(url("ar")).content.decode()
    assert 'dir="rtl"' in html and "اكتمال التقارير" in html and "غدامس" in html
    assert national(html) == ["1", "1", "0", "0", "100.0\xa0%"]  # X's editor sees X's cells only


def test_the_page_costs_the_same_number_of_queries_with_more_programmes(reported, client_for):
    client = client_for("ministry_viewer")

    def count():
        cache.clear()
        clear_local_cache()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url()).status_code == 200
        return len(queries)

    before = count()
    for _ in range(5):
        programme = f.ProgrammeFactory()
        f.TwinningFactory(programme=programme, municipalities=[f.MunicipalityFactory(), reported.orgs["x"]])
        f.IndicatorFactory(programme=programme)
    assert count() == before
