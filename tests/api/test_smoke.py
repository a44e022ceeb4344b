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
def test_lists_answer(client_for, resource):
    response = client_for("ministry_viewer").get(f"/api/v1/{resource}/")
    assert response.status_code == 200, response.content
    assert set(response.json()) >= {"count", "next", "previous", "results"}
    assert response.json()["count"] > 0


def test_schema(client_for):
    response = client_for("ministry_viewer").get("/api/v1/schema/?format=json")
    assert response.status_code == 200
