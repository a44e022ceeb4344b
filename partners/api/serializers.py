from django.contrib.auth import get_user_model
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
        ]
        extra_kwargs = {"name_en": {"required": True, "allow_blank": False}}


class MembershipSerializer(APIModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())

    class Meta:
        model = Membership
        fields = ["id", "user", "organisation", "role"]
