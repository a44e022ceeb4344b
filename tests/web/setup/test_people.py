"""The people and organisation pages: who may open them (404 outside one's view, 403 for those who
see but may not write), inviting without revealing accounts, accepting from the e-mailed link,
roles, kinds, and query counts that do not grow with the rows."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners import services
from partners.models import Invitation, Membership, Organisation
from tests import factories as f
from tests.notifications.conftest import smtp_server  # noqa: F401  (the real SMTP server fixture)
from tests.roles import ROLE_NAMES

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a long and unusual passphrase 42"


@pytest.fixture
def people(world):
    """The world plus an administrator of municipality X and an editor of the ministry."""
    x_admin = f.UserFactory(username="municipality_x_admin", email="x.admin@example.org")
    f.MembershipFactory(user=x_admin, organisation=world.orgs["x"], role=Membership.Role.ADMIN)
    ministry_editor = f.UserFactory(username="ministry_editor")
    f.MembershipFactory(user=ministry_editor, organisation=world.orgs["ministry"], role=Membership.Role.EDITOR)
    world.users["municipality_x_admin"] = x_admin
    world.users["ministry_editor"] = ministry_editor
    return world


def client_of(world, name=None, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if name is not None:
        client.force_login(world.users[name])
    return client


def url(name, *args, language="en"):
    from django.utils import translation

    with translation.override(language):
        return reverse(name, args=args)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Access --------------------------------------------------------------------------------------------

EVERY_USER = [*ROLE_NAMES, "municipality_x_admin", "ministry_editor", "superuser"]
# Who may do what: organisation list for everyone signed in; adding organisations for the
# ministry's editors (and its approvers, who rank above them) and superusers; editing X for them
# and for X's administrator; X's people for X's administrator and superusers.
MAY_CREATE = {"ministry_editor", "ministry_approver", "superuser"}
MAY_EDIT_X = {*MAY_CREATE, "municipality_x_admin"}
MAY_MANAGE_X = {"superuser", "municipality_x_admin"}


@pytest.mark.parametrize("name", EVERY_USER)
def test_access_matrix_of_every_page(people, name):
    x = people.orgs["x"]
    client = client_of(people, name)
    member = Membership.objects.get(user=people.users["municipality_x_editor"])
    invitation = services.invitation_create(
        organisation=x, email="waiting@example.org", role="viewer", invited_by=people.users["superuser"]
    )

    def expect(allowed: bool, ok: int = 200) -> int:
        return ok if allowed else 403

    assert client.get(url("setup_organisation_list")).status_code == 200
    assert client.get(url("setup_organisation_create")).status_code == expect(name in MAY_CREATE)
    assert client.get(url("setup_organisation_edit", x.pk)).status_code == expect(name in MAY_EDIT_X)
    assert client.get(url("setup_people_list", x.pk)).status_code == expect(name in MAY_MANAGE_X)
    manages = name in MAY_MANAGE_X
    posts = [
        (url("setup_people_invite", x.pk), {"email": f"{name}-guest@example.org", "role": "viewer"}),
        (url("setup_membership_role", x.pk, member.pk), {f"m{member.pk}-role": "approver"}),
        (url("setup_invitation_resend", x.pk, invitation.pk), {}),
    ]
    for address, data in posts:
        assert client.post(address, data).status_code == expect(manages, 302), address
    # Nonexistent organisations, and another organisation's member or invitation by X's address: 404.
    missing = Organisation.objects.order_by("-pk").first().pk + 1
    assert client.get(url("setup_organisation_edit", missing)).status_code == 404
    assert client.get(url("setup_people_list", missing)).status_code == 404
    if manages:
        outsider = Membership.objects.get(user=people.users["municipality_y_editor"])
        assert client.post(url("setup_membership_remove", x.pk, outsider.pk)).status_code == 404
        assert client.post(url("setup_invitation_cancel", x.pk, invitation.pk + 1000)).status_code == 404
        assert client.post(url("setup_membership_remove", x.pk, member.pk)).status_code == 302
    else:
        assert client.post(url("setup_membership_remove", x.pk, member.pk)).status_code == 403
        assert Membership.objects.filter(pk=member.pk, role=Membership.Role.EDITOR).exists()


def test_signed_out_visitors_are_sent_to_sign_in(people):
    client = Client()
    x = people.orgs["x"]
    for address in (
        url("setup_organisation_list"),
        url("setup_organisation_create"),
        url("setup_organisation_edit", x.pk),
        url("setup_people_list", x.pk),
    ):
        response = client.get(address)
        assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.post(url("setup_people_invite", x.pk), {"email": "a@example.org", "role": "viewer"})
    assert response.status_code == 302 and not Invitation.objects.exists()


def test_links_follow_what_each_user_may_do(people):
    x = people.orgs["x"]
    page = client_of(people, "municipality_x_admin").get(url("setup_organisation_list")).content.decode()
    assert url("setup_people_list", x.pk) in page and url("setup_organisation_edit", x.pk) in page
    assert url("setup_people_list", people.orgs["y"].pk) not in page
    assert url("setup_organisation_create") not in page
    viewer = client_of(people, "donor_a_viewer").get(url("setup_organisation_list")).content.decode()
    assert "/edit/" not in viewer and "/people/" not in viewer and "Ghadames" in viewer


# Inviting ------------------------------------------------------------------------------------------


def test_known_and_new_addresses_get_the_same_answer(people):
    client = client_of(people, "municipality_x_admin")
    x = people.orgs["x"]
    answers = []
    for email in ("donor_a_viewer@example.org", "nobody.yet@example.org"):
        response = client.post(url("setup_people_invite", x.pk), {"email": email, "role": "editor"})
        assert response.status_code == 302
        assert response["Location"] == url("setup_people_list", x.pk)
        page = client.get(response["Location"])
        answers.append([message.replace(email, "ADDRESS") for message in shown_messages(page)])
        row = re.search(
            rf'<tr id="invitation-\d+">\s*<th scope="row"><bdi>{re.escape(email)}</bdi>', page.content.decode()
        )
        assert row is not None  # waiting in the list either way
    assert answers[0] == answers[1] == ["An invitation was sent to ADDRESS."]
    assert not Membership.objects.filter(user=people.users["donor_a_viewer"], organisation=x).exists()


def test_bad_input_is_answered_next_to_the_field_and_nothing_is_sent(people):
    client = client_of(people, "municipality_x_admin", language="ar")
    response = client.post(
        url("setup_people_invite", people.orgs["x"].pk, language="ar"), {"email": "x@", "role": "viewer"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_email_error"' in page and 'value="x@"' in page
    assert 'lang="ar" dir="rtl"' in page
    assert not Invitation.objects.exists()
    member = client.post(
        url("setup_people_invite", people.orgs["x"].pk),
        {"email": people.users["municipality_x_editor"].email, "role": "viewer"},
    )
    assert "This person already belongs to this organisation." in member.content.decode()


def test_the_invitee_follows_the_emailed_link_sets_a_password_and_is_signed_in(
    people,
    smtp_server,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
    eager_celery,
):
    settings.SITE_URL = "http://testserver"
    admin = client_of(people, "municipality_x_admin", language="ar")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            url("setup_people_invite", people.orgs["x"].pk, language="ar"),
            {"email": "new@example.org", "role": "editor"},
        )
    (mail,) = smtp_server.received
    link = re.search(r"http://testserver(/ar/setup/invitations/[^/\s]+/)", mail.text).group(1)

    invitee = Client()
    page = invitee.get(link)
    assert page.status_code == 200 and "new@example.org" in page.content.decode()
    weak = invitee.post(link, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 400 and 'id="id_new_password2_error"' in weak.content.decode()
    assert not Membership.objects.filter(user__email="new@example.org").exists()

    done = invitee.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/ar/"
    membership = Membership.objects.get(user__email="new@example.org")
    assert (membership.organisation, membership.role) == (people.orgs["x"], Membership.Role.EDITOR)
    assert int(invitee.session["_auth_user_id"]) == membership.user_id
    assert membership.user.notification_preference.language == "ar"  # joined in Arabic: e-mails in Arabic
    assert invitee.get(link).status_code == 404  # once only
    assert Client().login(username="new@example.org", password=PASSWORD)


def test_a_known_person_accepts_with_a_button_and_keeps_their_password(people):
    known = people.users["donor_a_viewer"]
    invitation = services.invitation_create(
        organisation=people.orgs["x"], email=known.email, role="viewer", invited_by=people.users["municipality_x_admin"]
    )
    link = url("setup_invitation_accept", services.invitation_token(invitation))
    client = Client()
    page = client.get(link).content.decode()
    assert "new_password1" not in page and "Accept the invitation" in page
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == url("login")
    assert Membership.objects.filter(user=known, organisation=people.orgs["x"]).exists()
    assert Client().login(username=known.username, password="correct horse battery staple")


def test_waiting_invitations_are_sent_again_or_cancelled(people):
    client = client_of(people, "municipality_x_admin")
    x = people.orgs["x"]
    invitation = services.invitation_create(
        organisation=x, email="new@example.org", role="viewer", invited_by=people.users["municipality_x_admin"]
    )
    old = services.invitation_token(invitation)
    client.post(url("setup_invitation_resend", x.pk, invitation.pk))
    assert services.invitation_for_token(old) is None
    client.post(url("setup_invitation_cancel", x.pk, invitation.pk))
    invitation.refresh_from_db()
    assert invitation.cancelled_at is not None
    page = client.get(url("setup_people_list", x.pk)).content.decode()
    assert "No invitation is waiting." in page


# Roles ---------------------------------------------------------------------------------------------


def test_the_last_administrator_cannot_demote_or_remove_themselves(people):
    client = client_of(people, "municipality_x_admin")
    x = people.orgs["x"]
    own = Membership.objects.get(user=people.users["municipality_x_admin"])
    response = client.post(url("setup_membership_role", x.pk, own.pk), {f"m{own.pk}-role": "viewer"})
    assert response.status_code == 400
    assert "An organisation keeps at least one administrator" in response.content.decode()
    assert f'id="member-{own.pk}-error"' in response.content.decode()
    assert client.post(url("setup_membership_remove", x.pk, own.pk)).status_code == 400
    assert Membership.objects.get(pk=own.pk).role == Membership.Role.ADMIN


def test_an_administrator_who_steps_down_lands_on_their_account(people):
    client = client_of(people, "municipality_x_admin")
    x = people.orgs["x"]
    editor = Membership.objects.get(user=people.users["municipality_x_editor"])
    assert (
        client.post(url("setup_membership_role", x.pk, editor.pk), {f"m{editor.pk}-role": "admin"}).status_code == 302
    )
    own = Membership.objects.get(user=people.users["municipality_x_admin"])
    response = client.post(url("setup_membership_role", x.pk, own.pk), {f"m{own.pk}-role": "viewer"})
    assert response.status_code == 302 and response["Location"] == url("account")
    assert client.get(url("setup_people_list", x.pk)).status_code == 403
    history = client_of(people, "superuser").get(url("setup_people_list", x.pk)).content.decode()
    assert "municipality_x_admin is now Viewer" in history and "municipality_x_editor is now Administrator" in history


# Organisations -------------------------------------------------------------------------------------


def organisation_data(organisation, **changes):
    data = {
        "kind": organisation.kind,
        "name_en": organisation.name_en,
        "name_ar": organisation.name_ar,
        "acronym": organisation.acronym,
        "country": organisation.country,
        "region_en": "",
        "region_ar": "",
        "population": organisation.population or "",
        "iati_ref": organisation.iati_ref,
        "pcode": organisation.pcode,
        "latitude": "",
        "longitude": "",
    }
    return {**data, **changes}


def test_only_superusers_change_an_organisations_kind(people):
    x = people.orgs["x"]
    for name in ("ministry_editor", "municipality_x_admin"):
        page = client_of(people, name).get(url("setup_organisation_edit", x.pk)).content.decode()
        assert 'name="kind"' not in page and "Only superusers change an organisation's kind" in page
        response = client_of(people, name).post(
            url("setup_organisation_edit", x.pk), organisation_data(x, kind="ministry", name_ar=f"غدامس {name}")
        )
        assert response.status_code == 302
        x.refresh_from_db()
        assert (x.kind, x.name_ar) == ("municipality", f"غدامس {name}")
    response = client_of(people, "superuser").post(
        url("setup_organisation_edit", x.pk), organisation_data(x, kind="cso")
    )
    assert response.status_code == 302
    x.refresh_from_db()
    assert x.kind == "cso"


def test_an_organisation_is_added_with_its_place_and_its_history_shows_who(people):
    client = client_of(people, "ministry_editor", language="ar")
    data = {
        "kind": "municipality",
        "name_en": "",
        "name_ar": "غات",
        "acronym": "",
        "country": "LY",
        "region_en": "",
        "region_ar": "فزان",
        "population": "24000",
        "iati_ref": "",
        "pcode": "ly010101",
        "latitude": "24.96",
        "longitude": "10.18",
    }
    response = client.post(url("setup_organisation_create", language="ar"), data)
    assert response.status_code == 302
    ghat = Organisation.objects.get(name_ar="غات")
    assert (ghat.pcode, str(ghat.latitude), ghat.region_ar) == ("LY010101", "24.96000", "فزان")
    edited = organisation_data(ghat, population="25000", region_ar="فزان", latitude="24.96", longitude="10.18")
    assert client.post(url("setup_organisation_edit", ghat.pk, language="ar"), edited).status_code == 302
    page = client_of(people, "ministry_editor").get(url("setup_organisation_edit", ghat.pk)).content.decode()
    history = page.split('id="organisation-history"')[1]
    assert history.count("<bdi>ministry_editor</bdi>") == 2
    assert "Changed: Population</td>" in history and "Created" in history


def test_bad_organisation_input_is_answered_next_to_the_field(people):
    client = client_of(people, "ministry_editor")
    data = organisation_data(people.orgs["x"], name_en="", name_ar="", latitude="95", longitude="10")
    response = client.post(url("setup_organisation_create"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter the name in English or in Arabic." in page and 'id="id_name_en_error"' in page
    assert Organisation.objects.count() == len(people.orgs)
    clash = client.post(url("setup_organisation_create"), organisation_data(people.orgs["x"]))
    assert clash.status_code == 400
    assert "An organisation of this kind with this name already exists." in clash.content.decode()


# Query counts --------------------------------------------------------------------------------------


def count_queries(client, address) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


def test_query_counts_do_not_grow_with_the_rows(people):
    x = people.orgs["x"]
    admin = people.users["municipality_x_admin"]
    client = client_of(people, "municipality_x_admin")
    pages = [
        url("setup_people_list", x.pk),
        url("setup_organisation_list"),
        url("setup_organisation_edit", x.pk),
    ]
    before = [count_queries(client, page) for page in pages]
    for n in range(12):
        member = f.MembershipFactory(organisation=x, role=Membership.Role.VIEWER)
        services.membership_update(membership=member, role=Membership.Role.EDITOR)
        services.invitation_create(organisation=x, email=f"guest{n}@example.org", role="viewer", invited_by=admin)
        f.MunicipalityFactory()
        services.organisation_update(organisation=x, population=1000 + n)
    after = [count_queries(client, page) for page in pages]
    assert after == before


def test_the_pages_need_no_inline_code(people):
    from tests.web.test_content_security import assert_clean

    x = people.orgs["x"]
    invitation = services.invitation_create(
        organisation=x, email="new@example.org", role="viewer", invited_by=people.users["superuser"]
    )
    client = client_of(people, "superuser", language="ar")
    for address in (
        url("setup_organisation_list", language="ar"),
        url("setup_organisation_create", language="ar"),
        url("setup_organisation_edit", x.pk, language="ar"),
        url("setup_people_list", x.pk, language="ar"),
    ):
        assert_clean(client.get(address), address)
    assert_clean(Client().get(url("setup_invitation_accept", services.invitation_token(invitation))), "accept")


def test_an_organisations_administrator_renames_it_but_leaves_its_place_to_the_ministry(people):
    x = people.orgs["x"]
    client = client_of(people, "municipality_x_admin")
    page = client.get(url("setup_organisation_edit", x.pk)).content.decode()
    assert 'name="name_ar"' in page and 'name="pcode"' not in page and 'name="country"' not in page
    response = client.post(
        url("setup_organisation_edit", x.pk),
        organisation_data(x, name_en="Ghadames Municipality", pcode="LY999999", country="US", population="1"),
    )
    assert response.status_code == 302
    x.refresh_from_db()
    assert (x.name_en, x.pcode, x.country, x.population) == ("Ghadames Municipality", "", "LY", 10000)
    other = client.get(url("setup_organisation_edit", people.orgs["y"].pk))
    assert other.status_code == 403
