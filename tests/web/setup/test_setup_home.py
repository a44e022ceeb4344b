"""The set-up home: every signed-in role reaches it, sees the sections it may open, and finds it in
the navigation when it keeps something (ministry staff and anyone who may write)."""

import pytest
from django.urls import reverse

from partners.models import Membership
from tests import factories as f
from tests.roles import ROLE_NAMES

pytestmark = pytest.mark.django_db

SETUP = "/en/setup/"
ROLES = (*ROLE_NAMES, "superuser")


def nav_has_setup(response) -> bool:
    return f'href="{SETUP}"' in response.content.decode().split("<main", 1)[0]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reaches_the_setup_home_and_its_links_open(client_for, role):
    client = client_for(role)
    response = client.get(SETUP)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("setup_national_target_list", "setup_standard_indicator_list", "setup_programme_list"):
        link = reverse(name)
        assert f'href="{link}"' in html
        assert client.get(link).status_code in (200, 403), (role, link)  # 403: a role that may not look


def test_the_navigation_offers_setup_to_those_who_keep_something(client_for):
    assert nav_has_setup(client_for("ministry_viewer").get("/en/programmes/"))
    assert nav_has_setup(client_for("implementer_editor").get("/en/programmes/"))
    assert not nav_has_setup(client_for("donor_a_viewer").get("/en/donor/"))


def test_organisation_admins_find_their_peoples_page(world, client_for):
    admin = f.UserFactory()
    f.MembershipFactory(user=admin, organisation=world.orgs["x"], role=Membership.Role.ADMIN)
    client = client_for()
    client.force_login(admin)
    html = client.get(SETUP).content.decode()
    people = reverse("setup_people_list", args=[world.orgs["x"].pk])
    assert f'href="{people}"' in html
    assert client.get(people).status_code == 200
    assert reverse("setup_people_list", args=[world.orgs["y"].pk]) not in html  # not theirs


def test_the_setup_home_reads_in_arabic(client_for):
    html = client_for("ministry_viewer").get("/ar/setup/").content.decode()
    assert 'dir="rtl"' in html and "الإعداد" in html and "الجهات والأشخاص" in html


def test_signed_out_visitors_are_sent_to_sign_in(client_for):
    response = client_for().get(SETUP)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_setup_home_costs_the_same_queries_for_many_organisations(world, client_for, django_assert_max_num_queries):
    admin = f.UserFactory()
    f.MembershipFactory(user=admin, organisation=world.orgs["x"], role=Membership.Role.ADMIN)
    client = client_for()
    client.force_login(admin)
    with django_assert_max_num_queries(12) as few:
        client.get(SETUP)
    for _ in range(10):
        f.MembershipFactory(user=admin, organisation=f.MunicipalityFactory(), role=Membership.Role.ADMIN)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(SETUP)


def test_the_ministrys_administrators_manage_every_organisations_people(world, client_for):
    """A new municipality gets its first administrator from the ministry, not from a superuser."""
    ministry_admin = f.UserFactory()
    f.MembershipFactory(user=ministry_admin, organisation=world.orgs["ministry"], role=Membership.Role.ADMIN)
    client = client_for()
    client.force_login(ministry_admin)
    municipality = f.MunicipalityFactory()
    people = reverse("setup_people_list", args=[municipality.pk])
    assert client.get(people).status_code == 200
    assert "You manage the people of every organisation" in client.get(SETUP).content.decode()
    # An organisation's own administrator still manages only their own organisation.
    own_admin = f.UserFactory()
    f.MembershipFactory(user=own_admin, organisation=world.orgs["x"], role=Membership.Role.ADMIN)
    other = client_for()
    other.force_login(own_admin)
    assert other.get(people).status_code == 403
