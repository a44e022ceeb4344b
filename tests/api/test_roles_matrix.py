"""Who sees and does what (docs/design.md §7) through every endpoint, for every role of tests/roles.py."""

import datetime

import pytest

from indicators.models import Alignment, Result
from partners.models import Membership
from rollups.models import Rollup
from tests.factories import UserFactory
from tests.roles import ROLE_NAMES

pytestmark = pytest.mark.django_db

ROLES = (*ROLE_NAMES, None)  # None: anonymous
P1_SEERS = {"ministry_viewer", "ministry_approver", "donor_a_viewer", "implementer_editor"}
P1_SEERS |= {"municipality_x_editor", "municipality_y_editor"}
P2_SEERS = {"ministry_viewer", "ministry_approver", "donor_b_viewer"}


def programmes_seen(role):
    return {key for key, seers in (("p1", P1_SEERS), ("p2", P2_SEERS)) if role in seers}


def expected_ids(world, resource, role):
    """The ids `role` must see in `resource`'s list (and nothing else)."""
    seen = programmes_seen(role)
    if resource == "programmes":
        return {world.programmes[k].pk for k in seen}
    if resource == "twinnings":
        return {world.twinnings[k].pk for k in seen if k in world.twinnings}
    if resource == "workstreams":
        return {world.workstreams[k].pk for k in seen}
    if resource == "activities":
        return {a.pk for k in seen for a in world.workstreams[k].activities.all()}
    if resource == "indicators":
        return {world.indicators[k].pk for k in seen}
    if resource == "targets":
        return {world.targets[k].pk for k in seen}
    if resource == "results":
        by_role = {
            "municipality_x_editor": {"x", "x_draft"},
            "municipality_y_editor": {"y"},
        }
        keys = by_role.get(role) or {
            key
            for key, result in world.results.items()
            if ("p1" if result.indicator == world.indicators["p1"] else "p2") in seen
        }
        return {world.results[k].pk for k in keys}
    if resource == "funder-goals":
        goals = {"ministry_viewer": "ab", "ministry_approver": "ab", "donor_a_viewer": "a", "donor_b_viewer": "b"}
        return {world.funder_goals[k].pk for k in goals.get(role, "")}
    if resource == "alignments":
        goals = expected_ids(world, "funder-goals", role)
        indicators = expected_ids(world, "indicators", role)
        # Whoever aligns a programme reads back its alignments to its donors' goals.
        aligned = {world.indicators["p1"].pk: {world.funder_goals["a"].pk}} if role == "implementer_editor" else {}
        return {
            a.pk
            for a in Alignment.objects.all()
            if a.indicator_id in indicators
            and (a.funder_goal_id is None or a.funder_goal_id in goals | aligned.get(a.indicator_id, set()))
        }
    if resource == "memberships":
        return set(Membership.objects.filter(user=world.users[role]).values_list("pk", flat=True))
    raise AssertionError(resource)


PUBLIC = ("organisations", "themes", "national-targets")
SCOPED = (
    "programmes",
    "twinnings",
    "workstreams",
    "activities",
    "indicators",
    "targets",
    "results",
    "funder-goals",
    "alignments",
    "memberships",
)


def all_ids(client, url):
    found, page = set(), client.get(url + ("&" if "?" in url else "?") + "page_size=1000")
    assert page.status_code == 200, page.content
    found |= {row["id"] for row in page.json()["results"]}
    assert page.json()["next"] is None
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_list_shows_exactly_what_the_role_sees(world, client_for, role):
    client = client_for(role)
    for resource in (*PUBLIC, *SCOPED, "rollups"):
        if role is None:
            assert client.get(f"/api/v1/{resource}/").status_code == 401, resource
            continue
        ids = all_ids(client, f"/api/v1/{resource}/")
        if resource in SCOPED:
            assert ids == expected_ids(world, resource, role), resource
        elif resource in PUBLIC:
            assert ids, resource


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_objects_outside_the_view_are_404_by_id_and_invisible_through_filters(world, client_for, role):
    client = client_for(role)
    objects = {
        "programmes": list(world.programmes.values()),
        "twinnings": list(world.twinnings.values()),
        "workstreams": list(world.workstreams.values()),
        "indicators": list(world.indicators.values()),
        "targets": list(world.targets.values()),
        "results": list(world.results.values()),
        "funder-goals": list(world.funder_goals.values()),
        "alignments": list(Alignment.objects.all()),
    }
    for resource, items in objects.items():
        visible = expected_ids(world, resource, role)
        for obj in items:
            code = client.get(f"/api/v1/{resource}/{obj.pk}/").status_code
            assert code == (200 if obj.pk in visible else 404), (resource, obj.pk, code)
    for key, programme in world.programmes.items():
        listed = all_ids(client, f"/api/v1/results/?programme={programme.pk}")
        assert listed <= expected_ids(world, "results", role)
        listed = all_ids(client, f"/api/v1/indicators/?programme={programme.pk}")
        assert bool(listed) == (key in programmes_seen(role))


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_no_total_leaks_through_rollups(world, client_for, role):
    client = client_for(role)
    seen_indicators = expected_ids(world, "indicators", role)
    rows = client.get("/api/v1/rollups/", {"page_size": 1000}).json()["results"]
    assert {row["indicator"] for row in rows} == seen_indicators
    if role.startswith("municipality_"):
        own = world.orgs[role.split("_")[1]].pk
        assert {row["scope_id"] for row in rows if row["scope"] == "municipality"} == {own}
    total = Rollup.objects.filter(indicator__in=seen_indicators).count()
    if role.startswith("municipality_"):
        assert len(rows) < total
    else:
        assert len(rows) == total


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_no_total_leaks_through_reports_and_exports(world, client_for, role):
    client = client_for(role)
    seen = programmes_seen(role)
    for key, programme in world.programmes.items():
        expected = 200 if key in seen else 404
        for url in ("/api/v1/reports/iptt/", "/api/v1/exports/iati/"):
            assert client.get(url, {"programme": programme.pk}).status_code == expected, (url, key)
        assert client.get("/api/v1/reports/iptt/", {"programme": programme.pk, "format": "csv"}).status_code == expected
        assert client.get("/api/v1/reports/alignment/", {"programme": programme.pk}).status_code == expected
    report = client.get("/api/v1/reports/alignment/").json()
    seen_programmes = {world.programmes[k].pk for k in seen}
    seen_indicators = expected_ids(world, "indicators", role)
    for row in report["national_targets"] + report["funder_goals"]:
        assert set(row["programmes"]) <= seen_programmes
        assert set(row["indicators"]) | set(row["not_measurable"]) <= seen_indicators
    assert {row["id"] for row in report["funder_goals"]} == expected_ids(world, "funder-goals", role)
    assert {cell["funder_goal"] for cell in report["matrix"]} <= expected_ids(world, "funder-goals", role)
    national = next(row for row in report["national_targets"] if row["id"] == world.national_target.pk)
    if seen == {"p2"}:
        # Donor B: P2's 900 of 100 caps at 100; P1's 47 % must not pull the mean down.
        assert national["progress"] == "100"
    if seen == {"p1"}:
        assert national["progress"] == "47"
    if seen == {"p1", "p2"}:
        assert national["progress"] == "73.5"


def test_anonymous_gets_401_everywhere(world, client_for):
    client = client_for(None)
    p1 = world.programmes["p1"].pk
    for url in (
        f"/api/v1/reports/iptt/?programme={p1}",
        "/api/v1/reports/alignment/",
        f"/api/v1/exports/iati/?programme={p1}",
        f"/api/v1/results/{world.results['x'].pk}/",
    ):
        assert client.get(url).status_code == 401, url
    assert client.post("/api/v1/results/", {}, format="json").status_code == 401


Q3 = {"period_start": "2025-07-01", "period_end": "2025-09-30"}


def result_payload(world, municipality="x", **extra):
    return {
        "indicator": world.indicators["p1"].pk,
        "municipality": world.orgs[municipality].pk,
        **Q3,
        "value": "12",
        **extra,
    }


WRITE_EXPECTATIONS = {
    #                        create draft in X, approve X's submitted, edit P1, create national target
    "ministry_viewer": (403, 403, 403, 403),
    "ministry_approver": (403, 200, 403, 201),
    "donor_a_viewer": (403, 403, 403, 403),
    "donor_b_viewer": (403, 403, 403, 403),
    "implementer_editor": (201, 403, 200, 403),
    "municipality_x_editor": (201, 403, 403, 403),
    "municipality_y_editor": (403, 404, 403, 403),
    None: (401, 401, 401, 401),
}


@pytest.mark.parametrize("role", ROLES)
def test_writes_follow_the_role(world, client_for, role):
    client = client_for(role)
    create, approve, edit, national = WRITE_EXPECTATIONS[role]
    response = client.post("/api/v1/results/", result_payload(world), format="json")
    assert response.status_code == create, response.content
    submitted = world.results["x_draft"]
    Result.objects.filter(pk=submitted.pk).update(status=Result.Status.SUBMITTED)
    response = client.post(f"/api/v1/results/{submitted.pk}/approve/", {}, format="json")
    assert response.status_code == approve, response.content
    response = client.patch(f"/api/v1/programmes/{world.programmes['p1'].pk}/", {"name_en": "Renamed"}, format="json")
    assert response.status_code == edit, response.content
    response = client.post("/api/v1/national-targets/", {"code": "NT-9", "title_en": "More"}, format="json")
    assert response.status_code == national, response.content


@pytest.mark.parametrize("role", (*ROLES, "superuser"))
def test_only_superusers_create_approved_results(world, client_for, role):
    response = client_for(role).post("/api/v1/results/", result_payload(world, status="approved"), format="json")
    allowed = {"superuser"}
    expected = 401 if role is None else 201 if role in allowed else 403
    assert response.status_code == expected, response.content


def test_memberships_are_managed_by_superusers_and_admins(world, client_for):
    org = world.orgs["donor_a"]
    UserFactory(username="newcomer")  # a new account, in no organisation yet
    payload = {"user": "newcomer", "organisation": org.pk, "role": "viewer"}
    assert client_for("donor_a_viewer").post("/api/v1/memberships/", payload, format="json").status_code == 403
    Membership.objects.filter(user=world.users["donor_a_viewer"]).update(role=Membership.Role.ADMIN)
    response = client_for("donor_a_viewer").post("/api/v1/memberships/", payload, format="json")
    assert response.status_code == 201, response.content
    outside = {"user": "newcomer", "organisation": world.orgs["donor_b"].pk, "role": "admin"}
    assert client_for("donor_a_viewer").post("/api/v1/memberships/", outside, format="json").status_code == 403
    other = {"user": "donor_b_viewer", "organisation": world.orgs["donor_b"].pk, "role": "admin"}
    ids = all_ids(client_for("donor_a_viewer"), "/api/v1/memberships/")
    assert ids == set(Membership.objects.filter(organisation=org).values_list("pk", flat=True))
    response = client_for("superuser").post("/api/v1/memberships/", other, format="json")
    assert response.status_code == 400  # already a member
    assert "non_field_errors" in response.json() or "user" in response.json()
    other["organisation"] = world.orgs["x"].pk
    assert client_for("superuser").post("/api/v1/memberships/", other, format="json").status_code == 201


def test_dates_stay_iso(world):
    assert world.results["x"].period_start == datetime.date(2025, 1, 1)
