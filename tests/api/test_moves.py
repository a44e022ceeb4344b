"""What an object belongs to does not change through the API: a PATCH that moves it answers 400
naming the field (the rule lives in the object's update service), and nothing is written."""

import pytest

from indicators.models import FunderGoal, Indicator, Result, Target
from partners.models import Membership
from projects.models import Activity, Twinning, Workstream

pytestmark = pytest.mark.django_db


def moves(world):
    """(path, model, object, field, where it would move to, message)."""
    p2 = world.programmes["p2"].pk
    membership = Membership.objects.select_related("user").order_by("pk").first()
    return [
        ("indicators", Indicator, world.indicators["p1"], "programme", p2, "An indicator cannot move"),
        ("twinnings", Twinning, world.twinnings["p1"], "programme", p2, "A twinning cannot move"),
        ("workstreams", Workstream, world.workstreams["p1"], "programme", p2, "A workstream cannot move"),
        (
            "activities",
            Activity,
            Activity.objects.get(workstream=world.workstreams["p1"]),
            "workstream",
            world.workstreams["p2"].pk,
            "An activity cannot move",
        ),
        ("targets", Target, world.targets["p1"], "indicator", world.indicators["p2"].pk, "A target cannot move"),
        ("results", Result, world.results["x_draft"], "indicator", world.indicators["p2"].pk, "cannot change"),
        ("funder-goals", FunderGoal, world.funder_goals["a"], "donor", world.orgs["donor_b"].pk, "another donor"),
        ("memberships", Membership, membership, "user", world.users["superuser"].username, "new membership"),
        ("memberships", Membership, membership, "organisation", world.orgs["z"].pk, "new membership"),
    ]


def test_moving_an_object_elsewhere_is_a_400_naming_the_field(world, client_for):
    client = client_for("superuser")
    for path, model, obj, field, elsewhere, message in moves(world):
        before = model.objects.filter(pk=obj.pk).values().get()
        response = client.patch(f"/api/v1/{path}/{obj.pk}/", {field: elsewhere}, format="json")
        assert response.status_code == 400, (path, field, response.content)
        assert message in " ".join(response.json()[field]), (path, field)
        assert model.objects.filter(pk=obj.pk).values().get() == before, (path, field)


def test_the_whole_object_sent_back_unchanged_is_accepted(world, client_for):
    client = client_for("superuser")
    indicator = world.indicators["p1"]
    body = client.get(f"/api/v1/indicators/{indicator.pk}/").json()
    body["name_en"] = "Renamed"
    response = client.put(f"/api/v1/indicators/{indicator.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    assert Indicator.objects.get(pk=indicator.pk).name_en == "Renamed"
