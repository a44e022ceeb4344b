from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.serializers import APIModelSerializer, translated

from ..models import Membership, Organisation


class OrganisationSerializer(APIModelSerializer):
    translated_fields = ("name", "region")

    class Meta:
        model = Organisation
        fields = [
            "id",
            "kind",
            *translated("name"),
            "acronym",
            "country",
            *translated("region"),
            "population",
            "iati_ref",
            "pcode",
            "latitude",
            "longitude",
        ]


class MemberUsernameField(serializers.SlugRelatedField):
    """A user named by username, among those the requesting user may add to an organisation: the
    queryset the view puts in the context as `member_candidates` (none without it). A username
    that does not exist and one of a user who may not be added get the same answer, so the field
    does not tell whether an account exists."""

    default_error_messages = {
        "does_not_exist": _("No user that you may add has this username."),
        "invalid": _("No user that you may add has this username."),
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", queryset=get_user_model().objects.all(), **kwargs)

    def get_queryset(self):
        return self.context.get("member_candidates", get_user_model().objects.none())


class MembershipSerializer(APIModelSerializer):
    user = MemberUsernameField()
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())

    class Meta:
        model = Membership
        fields = ["id", "user", "organisation", "role"]
