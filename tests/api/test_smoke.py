import pytest

pytestmark = pytest.mark.django_db

LISTS = [
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
]


@pytest.mark.parametrize("resource", LISTS)
def test_lists_answer(world, client_for, resource):
    response = client_for("ministry_viewer").get(f"/api/v1/{resource}/")
    assert response.status_code == 200, response.content
    assert set(response.json()) >= {"count", "next", "previous", "results"}
    assert response.json()["count"] > 0


def test_schema(world, client_for):
    response = client_for("ministry_viewer").get("/api/v1/schema/?format=json")
    assert response.status_code == 200


@pytest.mark.parametrize("resource", ["activities", "targets", "alignments", "indicators", "results", "rollups"])
def test_programme_filter(world, client_for, resource):
    client = client_for("ministry_viewer")
    everything = client.get(f"/api/v1/{resource}/", {"page_size": 1000}).json()["count"]
    p1 = client.get(f"/api/v1/{resource}/", {"programme": world.programmes["p1"].pk, "page_size": 1000}).json()
    p2 = client.get(f"/api/v1/{resource}/", {"programme": world.programmes["p2"].pk, "page_size": 1000}).json()
    assert 0 < p1["count"] < everything and p1["count"] + p2["count"] == everything
