"""Invitations: one answer for known and new addresses, a signed link that works once and for a
week, e-mails in the invitee's language through a real SMTP server, and the rule that an
organisation keeps an administrator."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.services import invitation_email_send, preference_update
from partners import services
from partners.models import Invitation, Membership
from tests import factories as f
from tests.notifications.conftest import smtp_server  # noqa: F401  (the real SMTP server fixture)

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a long and unusual passphrase 42"


@pytest.fixture
def organisation():
    return f.MunicipalityFactory(name_en="Ghadames", name_ar="غدامس")


@pytest.fixture
def admin(organisation):
    user = f.UserFactory(username="ghadames_admin", first_name="Amal", last_name="Saleh")
    f.MembershipFactory(user=user, organisation=organisation, role=Membership.Role.ADMIN)
    return user


def invite(organisation, admin, email, role=Membership.Role.EDITOR, language="en"):
    return services.invitation_create(
        organisation=organisation, email=email, role=role, invited_by=admin, language=language
    )


def test_a_new_address_gets_an_account_that_cannot_sign_in_until_it_accepts(organisation, admin):
    invitation = invite(organisation, admin, "  New.Person@Example.org ")

    assert invitation.email == "new.person@example.org"
    account = invitation.user
    assert (account.username, account.email) == ("new.person@example.org", "new.person@example.org")
    assert not account.has_usable_password()
    assert not Membership.objects.filter(user=account).exists()


def test_a_known_address_is_invited_the_same_way_and_keeps_its_password(organisation, admin):
    known = f.UserFactory(username="salem", email="Salem@Example.org")
    invitation = invite(organisation, admin, "salem@example.org")

    assert invitation.user == known
    assert not Membership.objects.filter(user=known, organisation=organisation).exists()
    services.invitation_accept(invitation=invitation)
    assert Membership.objects.get(user=known, organisation=organisation).role == Membership.Role.EDITOR
    known.refresh_from_db()
    assert known.check_password("correct horse battery staple")


def test_the_link_sets_a_password_once(organisation, admin):
    invitation = invite(organisation, admin, "new@example.org")
    token = services.invitation_token(invitation)
    assert services.invitation_for_token(token) == invitation

    membership = services.invitation_accept(invitation=invitation, password=PASSWORD)

    assert (membership.organisation, membership.role) == (organisation, Membership.Role.EDITOR)
    assert membership.history.get().history_user == invitation.user  # who joined, in the history
    assert User.objects.get(pk=invitation.user_id).check_password(PASSWORD)
    assert services.invitation_for_token(token) is None
    with pytest.raises(ValidationError):
        services.invitation_accept(invitation=invitation, password="another passphrase 77")
    assert User.objects.get(pk=invitation.user_id).check_password(PASSWORD)


def test_a_weak_password_is_refused_and_nothing_is_written(organisation, admin):
    invitation = invite(organisation, admin, "new@example.org")
    with pytest.raises(ValidationError) as raised:
        services.invitation_accept(invitation=invitation, password="12345678")
    assert "This password is entirely numeric." in raised.value.message_dict["password"]
    assert not Membership.objects.filter(user=invitation.user).exists()
    assert not User.objects.get(pk=invitation.user_id).has_usable_password()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


def test_the_link_expires_after_a_week_and_sending_again_gives_a_new_one(organisation, admin):
    invitation = invite(organisation, admin, "new@example.org")
    old = services.invitation_token(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - services.INVITATION_VALID_FOR - datetime.timedelta(minutes=1)
    )
    assert services.invitation_for_token(old) is None

    resent = services.invitation_resend(invitation=invitation)
    new = services.invitation_token(resent)
    assert new != old
    assert services.invitation_for_token(new) == invitation
    assert services.invitation_for_token(old) is None


def test_an_older_link_stops_working_when_the_invitation_is_sent_again(organisation, admin):
    invitation = invite(organisation, admin, "new@example.org")
    old = services.invitation_token(invitation)
    services.invitation_resend(invitation=invitation)
    assert services.invitation_for_token(old) is None


def test_a_cancelled_or_forged_link_does_not_work(organisation, admin):
    invitation = invite(organisation, admin, "new@example.org")
    token = services.invitation_token(invitation)
    payload, signature = token.rsplit(".", 1)
    assert services.invitation_for_token(f"{payload}.{signature[::-1]}") is None
    assert services.invitation_for_token("not-a-token") is None

    services.invitation_cancel(invitation=invitation)
    assert services.invitation_for_token(token) is None
    with pytest.raises(ValidationError):
        services.invitation_resend(invitation=invitation)


def test_one_waiting_invitation_per_address_and_none_for_members(organisation, admin):
    invite(organisation, admin, "new@example.org")
    with pytest.raises(ValidationError) as raised:
        invite(organisation, admin, "NEW@example.org", role=Membership.Role.VIEWER)
    assert raised.value.message_dict["email"] == [
        "An invitation to this address is already waiting: send it again from the list instead."
    ]
    with pytest.raises(ValidationError) as raised:
        invite(organisation, admin, admin.email)
    assert raised.value.message_dict["email"] == ["This person already belongs to this organisation."]


def test_a_malformed_address_or_role_is_refused_and_no_account_made(organisation, admin):
    users = User.objects.count()
    with pytest.raises(ValidationError) as raised:
        invite(organisation, admin, "not an address", role="king")
    assert raised.value.message_dict == {
        "email": ["Enter an e-mail address such as name@example.org."],
        "role": ["Choose viewer, editor, approver or administrator."],
    }
    assert User.objects.count() == users


# E-mail -----------------------------------------------------------------------------------------


def test_the_english_email_carries_the_link_and_the_expiry(organisation, admin, smtp_server, settings):  # noqa: F811
    settings.SITE_URL = "https://twinning.example.org"
    invitation = invite(organisation, admin, "new@example.org")
    assert invitation_email_send(invitation_id=invitation.pk) is True

    (mail,) = smtp_server.received
    assert mail.envelope_to == ["new@example.org"]
    assert mail.subject == "Twinning: Join Ghadames"
    assert "Amal Saleh invites you to join Ghadames in Twinning as Editor." in mail.text
    link = "https://twinning.example.org/en/setup/invitations/" + services.invitation_token(invitation) + "/"
    assert link in mail.text and f'href="{link}"' in mail.html
    assert "Choose your password here to accept:" in mail.text
    assert "Your user name: new@example.org" in mail.text
    assert "The link works once, until" in mail.text
    assert '<html lang="en" dir="ltr">' in mail.html


def test_an_arabic_inviter_writes_to_a_new_address_in_arabic_right_to_left(organisation, admin, smtp_server):  # noqa: F811
    invitation = invite(organisation, admin, "new@example.org", language="ar")
    invitation_email_send(invitation_id=invitation.pk)

    (mail,) = smtp_server.received
    assert mail.subject == "التوأمة: الانضمام إلى غدامس"
    assert "يدعوك Amal Saleh إلى الانضمام إلى غدامس في منظومة التوأمة بصفة مُدخِل البيانات." in mail.text
    assert "/ar/setup/invitations/" in mail.text
    assert '<html lang="ar" dir="rtl">' in mail.html and '<body dir="rtl">' in mail.html
    assert mail.message["Content-Language"] == "ar"


def test_a_known_invitee_is_written_to_in_their_own_language(organisation, admin, smtp_server):  # noqa: F811
    known = f.UserFactory(username="salem")
    preference_update(user=known, language="ar")
    invitation = invite(organisation, admin, known.email, language="en")
    invitation_email_send(invitation_id=invitation.pk)

    (mail,) = smtp_server.received
    assert "/ar/setup/invitations/" in mail.text
    assert "اقبل الدعوة من هنا:" in mail.text  # an account with a password only accepts


def test_each_sending_is_emailed_once_and_a_cancelled_one_not_at_all(organisation, admin, smtp_server):  # noqa: F811
    invitation = invite(organisation, admin, "new@example.org")
    assert invitation_email_send(invitation_id=invitation.pk) is True
    assert invitation_email_send(invitation_id=invitation.pk) is False
    services.invitation_resend(invitation=invitation)
    assert invitation_email_send(invitation_id=invitation.pk) is True
    services.invitation_cancel(invitation=invitation)
    Invitation.objects.filter(pk=invitation.pk).update(emailed_at=None)
    assert invitation_email_send(invitation_id=invitation.pk) is False
    assert len(smtp_server.received) == 2


def test_the_email_goes_out_after_commit_through_the_task(
    organisation,
    admin,
    smtp_server,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from twinning.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            invite(organisation, admin, "new@example.org")
            assert smtp_server.received == []  # nothing inside the inviter's transaction
    finally:
        app.conf.task_always_eager = previous
    assert [mail.envelope_to for mail in smtp_server.received] == [["new@example.org"]]


# Roles ------------------------------------------------------------------------------------------


def test_the_last_administrator_is_neither_demoted_nor_removed(organisation, admin):
    membership = Membership.objects.get(user=admin, organisation=organisation)
    with pytest.raises(ValidationError) as raised:
        services.membership_update(membership=membership, role=Membership.Role.EDITOR)
    assert raised.value.message_dict["role"] == [
        "An organisation keeps at least one administrator: make another member administrator first."
    ]
    with pytest.raises(ValidationError):
        services.membership_delete(membership=membership)
    assert Membership.objects.get(pk=membership.pk).role == Membership.Role.ADMIN


def test_an_administrator_steps_down_once_another_one_is_there(organisation, admin):
    membership = Membership.objects.get(user=admin, organisation=organisation)
    other = f.MembershipFactory(organisation=organisation, role=Membership.Role.VIEWER)
    services.membership_update(membership=other, role=Membership.Role.ADMIN)

    services.membership_update(membership=membership, role=Membership.Role.VIEWER)
    services.membership_delete(membership=membership)
    assert list(Membership.objects.filter(organisation=organisation).values_list("role", flat=True)) == ["admin"]


def test_other_members_change_and_leave_freely(organisation, admin):
    member = f.MembershipFactory(organisation=organisation, role=Membership.Role.EDITOR)
    services.membership_update(membership=member, role=Membership.Role.APPROVER)
    services.membership_delete(membership=member)
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_an_organisation_without_administrators_is_not_blocked():
    """Organisations set up before anyone was made administrator still change their members."""
    member = f.MembershipFactory(role=Membership.Role.EDITOR)
    services.membership_update(membership=member, role=Membership.Role.VIEWER)
    services.membership_delete(membership=member)


def test_the_api_keeps_the_same_rule(organisation, admin):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(admin)
    membership = Membership.objects.get(user=admin, organisation=organisation)
    response = client.patch(f"/api/v1/memberships/{membership.pk}/", {"role": "viewer"}, format="json")
    assert response.status_code == 400
    assert response.json()["role"] == [
        "An organisation keeps at least one administrator: make another member administrator first."
    ]
    assert client.delete(f"/api/v1/memberships/{membership.pk}/").status_code == 400
    assert Membership.objects.get(pk=membership.pk).role == Membership.Role.ADMIN
