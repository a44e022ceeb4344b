"""Location aliases through the API (docs/api.md "Location aliases"; docs/registry.md "Where"):
the unmatched locations of imported activities, and the mappings a ministry editor makes once
so that later imports match by themselves."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import Intervention, InterventionLocation, LocationAlias

from .conftest import activity, run_import
from .test_api import client_for

pytestmark = pytest.mark.django_db

UBARI = "<location><name><narrative>Ubari</narrative></name></location>"
UNMATCHED = "/api/v1/unmatched-locations/"
ALIASES = "/api/v1/location-aliases/"


@pytest.fixture
def ubari(world):
    """Two activities in Ubari, which no municipality of the world matches, and one in Ghadames."""
    record = run_import(activity("XU-1", location=UBARI), activity("XU-2", location=UBARI), activity("XA-1"))
    assert record.activities_created == 3, record.errors
    return InterventionLocation.objects.filter(intervention__iati_identifier="XU-1").get()


def municipalities_of(identifier):
    return list(Intervention.objects.get(iati_identifier=identifier).municipalities.values_list("pk", flat=True))


@pytest.mark.parametrize("role", ["ministry_viewer", "donor_a_viewer", "implementer_editor", "municipality_x_editor"])
def test_every_signed_in_user_reads_the_unmatched_locations_and_the_aliases(world, ubari, role):
    client = client_for(world, role)
    body = client.get(UNMATCHED).json()
    assert body["count"] == 2
    row = body["results"][0]
    assert {"id", "intervention", "iati_identifier", "name", "vocabulary", "code", "latitude", "longitude"} <= set(row)
    assert {(r["iati_identifier"], r["name"]) for r in body["results"]} == {("XU-1", "Ubari"), ("XU-2", "Ubari")}
    assert client.get(f"{UNMATCHED}{ubari.pk}/").json()["name"] == "Ubari"
    xu2 = Intervention.objects.get(iati_identifier="XU-2")
    assert [r["iati_identifier"] for r in client.get(f"{UNMATCHED}?intervention={xu2.pk}").json()["results"]] == [
        "XU-2"
    ]
    assert client.get(ALIASES).status_code == 200


def test_without_signing_in_nothing_is_read(world, ubari):
    assert client_for(world).get(UNMATCHED).status_code == 401
    assert client_for(world).get(ALIASES).status_code == 401


def test_a_ministry_editor_maps_a_location_once_and_it_is_remembered(world, ubari):
    x = world.orgs["x"]
    created = client_for(world, "ministry_approver").post(ALIASES, {"location": ubari.pk, "municipality": x.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["label"], body["normalized_name"], body["municipality"], body["created_by"]) == (
        "Ubari",
        "ubari",
        x.pk,
        "ministry_approver",
    )
    assert "location" not in body
    # Both locations of that name moved, and so did their interventions: the list is empty.
    assert client_for(world, "ministry_viewer").get(UNMATCHED).json()["count"] == 0
    assert municipalities_of("XU-1") == municipalities_of("XU-2") == [x.pk]
    # A later import matches the name without asking.
    run_import(activity("XU-3", location="<location><name><narrative>UBARI</narrative></name></location>"))
    assert municipalities_of("XU-3") == [x.pk]
    listed = client_for(world, "donor_b_viewer").get(f"{ALIASES}?municipality={x.pk}").json()
    assert [(r["id"], r["label"]) for r in listed["results"]] == [(body["id"], "Ubari")]


@pytest.mark.parametrize("role", ["ministry_viewer", "donor_a_viewer", "implementer_editor", "municipality_x_editor"])
def test_only_ministry_editors_map_and_unmap(world, ubari, role):
    client = client_for(world, role)
    refused = client.post(ALIASES, {"location": ubari.pk, "municipality": world.orgs["x"].pk})
    assert refused.status_code == 403
    assert not LocationAlias.objects.exists()
    assert (
        client_for(world, "superuser")
        .post(ALIASES, {"location": ubari.pk, "municipality": world.orgs["x"].pk})
        .status_code
        == 201
    )
    alias = LocationAlias.objects.get()
    assert client.delete(f"{ALIASES}{alias.pk}/").status_code == 403
    assert LocationAlias.objects.filter(pk=alias.pk).exists()


def test_forgetting_a_mapping_puts_its_locations_back_on_the_list(world, ubari):
    editor = client_for(world, "ministry_approver")
    alias_id = editor.post(ALIASES, {"location": ubari.pk, "municipality": world.orgs["x"].pk}).json()["id"]
    assert editor.delete(f"{ALIASES}{alias_id}/").status_code == 204
    assert not LocationAlias.objects.exists()
    assert {r["iati_identifier"] for r in editor.get(UNMATCHED).json()["results"]} == {"XU-1", "XU-2"}
    assert municipalities_of("XU-1") == municipalities_of("XU-2") == []
    assert municipalities_of("XA-1") == [world.orgs["x"].pk]  # matched by its name, not by the alias
    assert editor.delete(f"{ALIASES}{alias_id}/").status_code == 404


def test_bad_mappings_are_400s_naming_the_field(world, ubari):
    editor = client_for(world, "ministry_approver")
    foreign = editor.post(ALIASES, {"location": ubari.pk, "municipality": world.orgs["y"].pk})
    assert foreign.status_code == 400 and list(foreign.json()) == ["municipality"]
    donor = editor.post(ALIASES, {"location": ubari.pk, "municipality": world.orgs["donor_a"].pk})
    assert donor.status_code == 400 and list(donor.json()) == ["municipality"]
    matched = InterventionLocation.objects.get(intervention__iati_identifier="XA-1")
    again = editor.post(ALIASES, {"location": matched.pk, "municipality": world.orgs["x"].pk})
    assert again.status_code == 400 and again.json()["location"] == [
        "This location is already matched to a municipality."
    ]
    unknown = editor.post(ALIASES, {"location": 10**9, "municipality": world.orgs["x"].pk})
    assert unknown.status_code == 400 and list(unknown.json()) == ["location"]
    missing = editor.post(ALIASES, {})
    assert missing.status_code == 400 and set(missing.json()) == {"location", "municipality"}
    assert not LocationAlias.objects.exists()
    assert client_for(world, "superuser").put(f"{UNMATCHED}{ubari.pk}/", {}).status_code == 405


@pytest.mark.parametrize("path", [UNMATCHED, ALIASES])
def test_lists_run_the_same_queries_for_few_and_many(world, path):
    client = client_for(world, "ministry_approver")

    def measure(n):
        places = [f"<location><name><narrative>Place {n} {i}</narrative></name></location>" for i in range(n)]
        run_import(*(activity(f"XL-{n}-{i}", location=place) for i, place in enumerate(places)))
        for location in InterventionLocation.objects.filter(municipality__isnull=True)[: n // 2]:
            client.post(ALIASES, {"location": location.pk, "municipality": world.orgs["x"].pk})
        client.get(path)  # warm the user's access
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    few = measure(2)
    assert measure(8) == few
