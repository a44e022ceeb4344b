"""Organisation and membership rules, checked by the services."""

import pytest
from django.core.exceptions import ValidationError

from partners import services
from partners.models import Membership
from tests.factories import MembershipFactory, MunicipalityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("moved", ["user", "organisation"])
def test_a_membership_does_not_move_to_another_user_or_organisation(moved):
    membership = MembershipFactory()
    elsewhere = {"user": UserFactory(), "organisation": MunicipalityFactory()}[moved]
    with pytest.raises(ValidationError) as raised:
        services.membership_update(membership=membership, role=Membership.Role.EDITOR, **{moved: elsewhere})
    assert raised.value.message_dict[moved] == ["Create a new membership instead of moving this one."]
    stored = Membership.objects.get(pk=membership.pk)
    assert (stored.user_id, stored.organisation_id, stored.role) == (
        membership.user_id,
        membership.organisation_id,
        Membership.Role.VIEWER,
    )


def test_a_members_role_changes():
    membership = MembershipFactory()
    updated = services.membership_update(
        membership=membership, user=membership.user, organisation=membership.organisation, role=Membership.Role.ADMIN
    )
    assert Membership.objects.get(pk=updated.pk).role == Membership.Role.ADMIN


def test_organisations_named_in_arabic_only_do_not_clash_over_their_empty_english_names():
    first = services.organisation_create(kind="municipality", name_ar="غات", country="LY")
    second = services.organisation_create(kind="municipality", name_ar="أوباري", country="LY")
    assert (first.name_en, second.name_en) == ("", "")
    with pytest.raises(ValidationError) as raised:
        services.organisation_create(kind="municipality", name_ar="غات", country="LY")
    assert raised.value.messages == ["An organisation of this kind with this name already exists."]


def test_an_organisation_needs_a_name_in_one_language():
    with pytest.raises(ValidationError) as raised:
        services.organisation_create(kind="donor", name_en="", name_ar="  ", country="US")
    assert raised.value.message_dict == {
        "name_en": ["Enter the name in English or in Arabic."],
        "name_ar": ["Enter the name in English or in Arabic."],
    }
