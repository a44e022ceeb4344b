"""With the cache (Redis) down, every page and report is computed instead of failing, and shows
the same numbers as with the cache up."""

import logging
import re
import socket

import pytest
from django.test import override_settings
from django.urls import reverse

from reporting import reports


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def dead_cache():
    location = f"redis://127.0.0.1:{closed_port()}/0"
    reports.clear_local_cache()
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}
    ):
        yield
    reports.clear_local_cache()


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def fetch(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response


@pytest.mark.parametrize(
    ("role", "page", "number"),
    [
        ("donor_a_viewer", "donor_dashboard", '<span class="value"><bdi>47.0\u00a0%</bdi></span>'),
        ("ministry_viewer", "ministry_dashboard", '<span class="value"><bdi>73.5\u00a0%</bdi></span>'),
    ],
)
def test_dashboards_are_computed_when_the_cache_is_down(world, client_for, dead_cache, role, page, number):
    client = client_for(role)
    down = without_tokens(fetch(client, reverse(page)).content.decode())
    assert number in down
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        reports.clear_local_cache()
        up = without_tokens(fetch(client, reverse(page)).content.decode())
    assert down == up


def test_a_cache_failure_is_logged(world, client_for, dead_cache, caplog):
    with caplog.at_level(logging.WARNING, logger=reports.__name__):
        fetch(client_for("donor_a_viewer"), reverse("donor_dashboard"))
    assert "cache read failed" in caplog.text and "cache write failed" in caplog.text


def test_the_report_api_is_computed_when_the_cache_is_down(world, client_for, dead_cache):
    client = client_for("donor_a_viewer")
    p1 = world.programmes["p1"].pk
    iptt = fetch(client, "/api/v1/reports/iptt/", programme=p1).json()
    alignment = fetch(client, "/api/v1/reports/alignment/").json()
    csv = fetch(client, "/api/v1/reports/iptt/", programme=p1, format="csv").content
    assert [row["lop_actual"] for row in iptt["rows"]] == ["47"]
    assert [row["progress"] for row in alignment["national_targets"] if row["indicators"]] == ["47"]
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        reports.clear_local_cache()
        assert fetch(client, "/api/v1/reports/iptt/", programme=p1).json() == iptt
        assert fetch(client, "/api/v1/reports/alignment/").json() == alignment
        assert fetch(client, "/api/v1/reports/iptt/", programme=p1, format="csv").content == csv
