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


def test_unfiltered_huge_keyset_lists_estimate_their_count(world, client_for, monkeypatch):
    from django.db import connection

    from common.api import pagination

    monkeypatch.setattr(pagination, "ESTIMATE_COUNTS_ABOVE", 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE indicators_result")
    client = client_for("ministry_viewer")
    everything = client.get("/api/v1/results/").json()
    assert everything["count_is_estimate"] is True and everything["count"] == 4
    filtered = client.get("/api/v1/results/", {"status": "approved"}).json()
    assert filtered["count_is_estimate"] is False and filtered["count"] == 3
    scoped = client_for("donor_b_viewer").get("/api/v1/results/").json()
    assert scoped["count_is_estimate"] is False and scoped["count"] == 1


def test_openapi_schema_is_valid_and_warning_free(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    text = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/results/{id}/approve/", "/api/v1/reports/iptt/", "/api/v1/exports/iati/", "/api/v1/rollups/"):
        assert path in text


def test_resources_without_a_delete_service_offer_no_delete(world, client_for):
    client = client_for("superuser")
    assert client.delete(f"/api/v1/programmes/{world.programmes['p1'].pk}/").status_code == 405
    assert client.delete(f"/api/v1/themes/{world.workstreams['p1'].theme_id}/").status_code == 405
    activity = world.workstreams["p1"].activities.first()
    assert client.delete(f"/api/v1/activities/{activity.pk}/").status_code == 204
    assert client.get("/api/v1/activities/abc/").status_code == 404
    assert client.get("/api/v1/activities/abc/").json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/results/?indicator=99999999999999999999",
        "/api/v1/results/99999999999999999999/",
        "/api/v1/rollups/?scope_id=99999999999999999999",
        "/api/v1/programmes/?donors=99999999999999999999",
        "/api/v1/results/?disaggregation=" + "x" * 100,
        "/api/v1/results/?cursor=garbage",
        "/api/v1/programmes/?page=999",
        "/api/v1/reports/alignment/?programme=-1",
    ],
)
def test_out_of_range_input_is_never_a_500(world, client_for, url):
    response = client_for("ministry_viewer").get(url)
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    assert response["Content-Type"].startswith("application/json")
    if response.status_code == 200:  # an id filter that matches nothing
        assert response.json()["count"] == 0
