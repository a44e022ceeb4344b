"""The registry's REST contract (docs/design.md §6): iati-imports/, interventions/,
sector-themes/, overlap-candidates/ and reports/3w/, for each role of docs/design.md §7."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from registry import services
from registry.models import IatiImport, Intervention, OverlapCandidate

from .conftest import activity, iati_file, registry_file
from .test_iati_import import BOMB, XXE

pytestmark = pytest.mark.django_db


def client_for(world, name=None):
    client = APIClient()
    if name:
        token, _ = Token.objects.get_or_create(user=world.users[name])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def upload(client, content: bytes, name="activities.xml"):
    return client.post(
        "/api/v1/iati-imports/", {"file": SimpleUploadedFile(name, content, "application/xml")}, format="multipart"
    )


@pytest.fixture
def imported(world):
    response = upload(client_for(world, "ministry_approver"), registry_file())
    assert response.status_code == 201, response.content
    services.overlap_candidates_refresh()
    return response.json()


def test_an_upload_answers_the_contract_and_a_second_one_changes_nothing(world, imported):
    assert {"id", "status", "activities_created", "activities_updated", "activities_skipped", "errors"} <= set(imported)
    assert (imported["status"], imported["activities_created"], imported["activities_skipped"]) == ("imported", 4, 1)
    assert imported["errors"] == []
    again = upload(client_for(world, "ministry_approver"), registry_file())
    assert again.status_code == 201
    body = again.json()
    assert (body["activities_created"], body["activities_updated"], body["activities_unchanged"]) == (0, 0, 4)
    listed = client_for(world, "ministry_approver").get("/api/v1/iati-imports/").json()
    assert listed["count"] == 2 and listed["results"][0]["id"] == body["id"]
    detail = client_for(world, "superuser").get(f"/api/v1/iati-imports/{imported['id']}/")
    assert detail.status_code == 200 and detail.json()["activities_created"] == 4


def test_an_invalid_activity_is_reported_with_its_xpath(world):
    content = iati_file(activity("XA-1"), activity("XA-2", currency="ZZZ")).getvalue()
    response = upload(client_for(world, "ministry_approver"), content)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["activities_created"]) == ("partial", 1)
    assert body["errors"] == [
        {
            "activity": "XA-2",
            "path": "/iati-activities/iati-activity[2]/@default-currency",
            "message": "Unknown currency ZZZ: use an ISO 4217 code such as USD, EUR or LYD.",
        }
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BOMB, "document type"),
        (XXE, "document type"),
        (b"\x89PNG\r\n", "not XML"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "not an IATI activity file"),
    ],
    ids=["xml-bomb", "external-entity", "not-xml", "not-iati"],
)
def test_unreadable_files_are_a_400_naming_the_file(world, content, message):
    response = upload(client_for(world, "ministry_approver"), content)
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not IatiImport.objects.exists() and not Intervention.objects.filter(source="iati").exists()


def test_a_missing_file_is_a_400(world):
    response = client_for(world, "ministry_approver").post("/api/v1/iati-imports/", {}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 401),
        ("ministry_viewer", 403),
        ("donor_a_viewer", 403),
        ("implementer_editor", 403),
        ("ministry_approver", 200),
    ],
)
def test_imports_are_for_ministry_editors(world, role, status):
    assert client_for(world, role).get("/api/v1/iati-imports/").status_code == status
    if status != 200:
        assert upload(client_for(world, role), registry_file()).status_code == status
        assert not IatiImport.objects.exists()


def test_interventions_fields_filters_and_languages(world, imported):
    client = client_for(world, "ministry_viewer")
    body = client.get("/api/v1/interventions/").json()
    assert body["count"] == 6  # two programmes, four imported
    row = next(r for r in body["results"] if r["iati_identifier"] == "XA-1")
    contract = {"id", "source", "iati_identifier", "programme", "title", "title_en", "title_ar", "reporting_org",
                "donors", "implementers", "municipalities", "themes", "sectors", "start_date", "end_date", "budget",
                "currency", "status"}  # fmt: skip
    assert contract <= set(row)
    assert (row["source"], row["programme"], row["sectors"], row["budget"]) == ("iati", None, ["15114"], "100000.00")
    assert row["donors"] == [world.orgs["donor_a"].pk] and row["municipalities"] == [world.orgs["x"].pk]
    p1 = next(r for r in body["results"] if r["programme"] == world.programmes["p1"].pk)
    assert p1["source"] == "programme" and p1["municipalities"] == [world.orgs["x"].pk]  # Tinley Park is not Libyan
    arabic = client.get(f"/api/v1/interventions/{p1['id']}/", HTTP_ACCEPT_LANGUAGE="ar").json()
    assert arabic["title"] == "غدامس - تينلي بارك"

    def ids(query):
        return {
            r["programme"] or r["iati_identifier"]
            for r in client.get(f"/api/v1/interventions/?{query}").json()["results"]
        }

    assert ids(f"municipality={world.orgs['z'].pk}") == {"XC-2", "XD-2", world.programmes["p2"].pk}
    assert ids(f"donor={world.orgs['donor_a'].pk}") == {"XA-1", world.programmes["p1"].pk}
    assert ids(f"theme={world.workstreams['p1'].theme_id}&source=iati") == {"XA-1", "XC-1", "XC-2", "XD-2"}
    assert ids("active_on=2031-01-01") == set()
    assert ids("active_on=2025-06-01") >= {"XA-1", world.programmes["p1"].pk}
    assert client.get("/api/v1/interventions/?active_on=soon").status_code == 400


def test_interventions_are_scoped_like_programmes(world, imported):
    p1 = Intervention.objects.get(programme=world.programmes["p1"])
    donor_b = client_for(world, "donor_b_viewer")
    assert donor_b.get(f"/api/v1/interventions/{p1.pk}/").status_code == 404
    assert {r["source"] for r in donor_b.get("/api/v1/interventions/").json()["results"]} == {"iati", "programme"}
    assert client_for(world, "donor_a_viewer").get(f"/api/v1/interventions/{p1.pk}/").status_code == 200
    assert client_for(world).get("/api/v1/interventions/").status_code == 401
    assert client_for(world, "superuser").post("/api/v1/interventions/", {}).status_code == 405


def test_sector_themes_are_read_by_all_and_kept_by_ministry_editors(world):
    theme = world.workstreams["p1"].theme
    listed = client_for(world, "donor_a_viewer").get("/api/v1/sector-themes/").json()
    assert [(r["dac_code"], r["theme"], r["dac_name"]) for r in listed["results"]] == [
        ("15114", theme.pk, "Domestic revenue mobilisation")
    ]
    body = {"dac_code": "15128", "theme": theme.pk}
    assert client_for(world, "donor_a_viewer").post("/api/v1/sector-themes/", body).status_code == 403
    created = client_for(world, "ministry_approver").post("/api/v1/sector-themes/", body)
    assert created.status_code == 201 and created.json()["dac_code"] == "15128"
    bad = client_for(world, "ministry_approver").post(
        "/api/v1/sector-themes/", {"dac_code": "99999", "theme": theme.pk}
    )
    assert bad.status_code == 400 and "dac_code" in bad.json()
    twice = client_for(world, "ministry_approver").post("/api/v1/sector-themes/", body)
    assert twice.status_code == 400
    assert (
        client_for(world, "ministry_approver").delete(f"/api/v1/sector-themes/{created.json()['id']}/").status_code
        == 204
    )


def test_candidates_ministry_sees_all_a_donor_its_own_pairs(world, imported):
    def count(role):
        return client_for(world, role).get("/api/v1/overlap-candidates/").json()["count"]

    assert count("ministry_viewer") == 2
    assert count("donor_a_viewer") == 1
    assert count("donor_b_viewer") == 0
    assert count("implementer_editor") == 0
    row = client_for(world, "donor_a_viewer").get("/api/v1/overlap-candidates/").json()["results"][0]
    assert {"id", "interventions", "score", "reasons", "status", "reviewed_by", "reviewed_at", "note"} <= set(row)
    pair = set(Intervention.objects.filter(iati_identifier__in=["XA-1", "XC-1"]).values_list("id", flat=True))
    assert set(row["interventions"]) == pair and row["interventions"] == sorted(row["interventions"])
    assert row["status"] == "open" and "similar_title" in row["reasons"] and 0 <= row["score"] <= 100
    # The donor also sees the other intervention of its pair.
    other = max(pair)
    assert client_for(world, "donor_a_viewer").get(f"/api/v1/interventions/{other}/").status_code == 200


def test_review_is_for_ministry_editors_and_merges_nothing(world, imported):
    candidate = OverlapCandidate.objects.get(intervention_a__iati_identifier="XA-1")
    url = f"/api/v1/overlap-candidates/{candidate.pk}/review/"
    assert client_for(world, "donor_a_viewer").post(url, {"status": "duplicate"}).status_code == 403
    assert client_for(world, "ministry_viewer").post(url, {"status": "duplicate"}).status_code == 403
    assert client_for(world, "donor_b_viewer").post(url, {"status": "duplicate"}).status_code == 403
    missing = "/api/v1/overlap-candidates/999999/review/"
    assert client_for(world, "ministry_approver").post(missing, {"status": "duplicate"}).status_code == 404
    bad = client_for(world, "ministry_approver").post(url, {"status": "merged"})
    assert bad.status_code == 400 and "status" in bad.json()
    response = client_for(world, "ministry_approver").post(url, {"status": "duplicate", "note": "Same fee registers."})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["note"], body["reviewed_by"]) == (
        "duplicate",
        "Same fee registers.",
        "ministry_approver",
    )
    assert body["reviewed_at"]
    assert Intervention.objects.count() == 6
    filtered = client_for(world, "ministry_viewer").get("/api/v1/overlap-candidates/?status=duplicate").json()
    assert [r["id"] for r in filtered["results"]] == [candidate.pk]


def test_three_w_json_and_csv_with_hxl_tags(world, imported):
    rows = client_for(world, "ministry_viewer").get("/api/v1/reports/3w/").json()["rows"]
    xa = next(r for r in rows if r["intervention"] == "Municipal revenue in Ghadames" and r["donor"] == "Donor A")
    assert xa["municipality"] == "Ghadames" and xa["theme"] == world.workstreams["p1"].theme.name
    assert (xa["sector"], xa["budget"], xa["currency"], xa["start_date"]) == ("15114", "100000.00", "EUR", "2025-01-01")
    response = client_for(world, "ministry_viewer").get("/api/v1/reports/3w/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ["municipality", "theme", "sector", "donor", "implementer", "intervention", "start_date",
                        "end_date", "budget", "currency"]  # fmt: skip
    assert table[1] == ["#adm2+name", "#sector", "#sector+code", "#org+funder", "#org+impl", "#activity+name",
                        "#date+start", "#date+end", "#value+budget", "#currency"]  # fmt: skip
    assert len(table) == 2 + len(rows)
    arabic = client_for(world, "ministry_viewer").get("/api/v1/reports/3w/", HTTP_ACCEPT_LANGUAGE="ar").json()["rows"]
    assert "غدامس" in {r["municipality"] for r in arabic}
    # A donor's 3W covers what it sees: not the other donor's programme.
    donor_b = client_for(world, "donor_b_viewer").get("/api/v1/reports/3w/").json()["rows"]
    assert world.programmes["p1"].name not in {r["intervention"] for r in donor_b}
    assert client_for(world, "ministry_viewer").get("/api/v1/reports/3w/?format=xml").status_code in (400, 404)
    assert client_for(world, "ministry_viewer").get("/api/v1/reports/3w/?municipality=x").status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/interventions/", "/api/v1/overlap-candidates/", "/api/v1/iati-imports/"])
def test_lists_run_the_same_queries_for_few_and_many(world, path):
    client = client_for(world, "ministry_approver")

    def measure(n):
        acts = [
            activity(
                f"XQ-{n}-{i}",
                title_en="Municipal revenue in Ghadames",
                reporting_ref=f"XQ{n}-{i}",
                reporting_name=f"Q {n} {i}",
            )
            for i in range(n)
        ]
        upload(client, iati_file(*acts).getvalue())
        services.overlap_candidates_refresh()
        client.get(path)  # warm the user's access
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    few = measure(2)
    assert measure(8) == few
