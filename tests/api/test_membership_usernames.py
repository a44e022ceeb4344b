"""Adding a member by username tells an organisation admin nothing about accounts they may not add:
an unknown username and a user outside their reach get the same answer, naming the field."""

import pytest

from partners.models import Membership
from tests.factories import UserFactory

MESSAGE = "No user that you may add has this username."


@pytest.fixture
def donor_admin(world, client_for):
    Membership.objects.filter(user=world.users["donor_a_viewer"]).update(role=Membership.Role.ADMIN)
    return client_for("donor_a_viewer")


def add(client, world, username, **headers):
    payload = {"user": username, "organisation": world.orgs["donor_a"].pk, "role": "viewer"}
    return client.post("/api/v1/memberships/", payload, format="json", **headers)


def test_an_unknown_username_and_a_user_out_of_reach_get_the_same_answer(world, donor_admin):
    UserFactory(username="retired", is_active=False)  # in no organisation, but inactive
    answers = [add(donor_admin, world, name) for name in ("no-such-user", "donor_b_viewer", "superuser", "retired")]
    assert [answer.status_code for answer in answers] == [400] * 4
    assert [answer.json() for answer in answers] == [{"user": [MESSAGE]}] * 4
    assert not Membership.objects.filter(organisation=world.orgs["donor_a"], user__username="donor_b_viewer").exists()


def test_the_same_answer_in_arabic(world, donor_admin):
    unknown = add(donor_admin, world, "no-such-user", HTTP_ACCEPT_LANGUAGE="ar").json()
    hidden = add(donor_admin, world, "donor_b_viewer", HTTP_ACCEPT_LANGUAGE="ar").json()
    assert unknown == hidden
    assert unknown["user"][0] != MESSAGE  # translated


def test_an_admin_adds_new_accounts_and_their_own_organisations_members(world, donor_admin):
    UserFactory(username="newcomer")
    assert add(donor_admin, world, "newcomer").status_code == 201
    Membership.objects.filter(user__username="newcomer").delete()
    other_org_member = UserFactory(username="colleague")
    Membership.objects.create(user=other_org_member, organisation=world.orgs["donor_b"], role="viewer")
    Membership.objects.create(user=world.users["donor_a_viewer"], organisation=world.orgs["donor_b"], role="admin")
    assert add(donor_admin, world, "colleague").status_code == 201  # from an organisation they administer


def test_superusers_add_anyone(world, client_for):
    assert add(client_for("superuser"), world, "donor_b_viewer").status_code == 201
