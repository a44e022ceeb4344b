"""An organisation's kind decides what its members see, so only superusers change it
(docs/design.md §7): in the service, the API and the admin."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from partners import services
from partners.models import Membership, Organisation
from tests.factories import DonorFactory, MembershipFactory, MinistryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ministry_editor():
    user = UserFactory(username="ministry_editor")
    MembershipFactory(user=user, organisation=MinistryFactory(), role=Membership.Role.EDITOR)
    return user


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_only_superusers_change_an_organisations_kind(ministry_editor):
    donor = DonorFactory()
    with pytest.raises(services.OrganisationKindRefused) as caught:
        services.organisation_update(organisation=donor, user=ministry_editor, kind=Organisation.Kind.MINISTRY)
    assert "kind" in caught.value.message_dict and caught.value.http_status == 403
    donor.refresh_from_db()
    assert donor.kind == Organisation.Kind.DONOR
    renamed = services.organisation_update(organisation=donor, user=ministry_editor, kind="donor", name_en="Renamed")
    assert renamed.name_en == "Renamed"
    superuser = UserFactory(is_superuser=True)
    assert services.organisation_update(organisation=donor, user=superuser, kind="ministry").kind == "ministry"


def test_a_ministry_editor_cannot_turn_a_donor_into_a_ministry_through_the_api(ministry_editor):
    donor = DonorFactory()
    url = f"/api/v1/organisations/{donor.pk}/"
    response = api(ministry_editor).patch(url, {"kind": "ministry"}, format="json")
    assert response.status_code == 403 and "superusers" in response.json()["detail"]
    assert api(ministry_editor).patch(url, {"acronym": "DA"}, format="json").status_code == 200
    donor.refresh_from_db()
    assert (donor.kind, donor.acronym) == (Organisation.Kind.DONOR, "DA")


def test_the_admin_refuses_a_kind_change_from_staff(client, ministry_editor):
    donor = DonorFactory()
    ministry_editor.is_staff = True
    ministry_editor.save()
    ministry_editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_organisation", "change_organisation"])
    )
    client.force_login(ministry_editor)
    url = reverse("admin:partners_organisation_change", args=[donor.pk])
    form = {
        "kind": "ministry", "name_en": donor.name_en, "name_ar": "", "acronym": "", "country": donor.country,
        "region_en": "", "region_ar": "", "population": "", "iati_ref": "",
    }  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 200 and "Only superusers change" in response.content.decode()
    donor.refresh_from_db()
    assert donor.kind == Organisation.Kind.DONOR
