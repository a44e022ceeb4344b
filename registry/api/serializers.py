from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.serializers import APIModelSerializer, translated
from partners.models import Organisation
from projects.api.base import ScopedRelatedField
from projects.models import Theme

from .. import selectors
from ..iati import dac_name
from ..models import IatiImport, Intervention, InterventionLocation, LocationAlias, OverlapCandidate, SectorTheme


class IatiImportSerializer(APIModelSerializer):
    file = serializers.FileField(
        write_only=True,
        help_text=_("An IATI 2.01–2.03 activity XML file, at most 20 MB."),
        allow_empty_file=False,
    )
    imported_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    errors = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        read_only=True,
        help_text=_("One entry per activity refused: {activity, path, message}."),
    )

    class Meta:
        model = IatiImport
        fields = [
            "id",
            "status",
            "activities_created",
            "activities_updated",
            "activities_skipped",
            "activities_unchanged",
            "errors",
            "file",
            "file_name",
            "file_size",
            "file_sha256",
            "iati_version",
            "imported_by",
            "created_at",
        ]
        read_only_fields = [name for name in fields if name != "file"]


class InterventionSerializer(APIModelSerializer):
    translated_fields = ("title", "description")
    sectors = serializers.ListField(child=serializers.CharField(), read_only=True)
    sector_categories = serializers.ListField(child=serializers.CharField(), read_only=True)
    related_identifiers = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Intervention
        fields = [
            "id",
            "source",
            "iati_identifier",
            "programme",
            *translated("title"),
            *translated("description"),
            "reporting_org",
            "donors",
            "implementers",
            "municipalities",
            "themes",
            "sectors",
            "sector_categories",
            "start_date",
            "end_date",
            "budget",
            "currency",
            "committed",
            "disbursed",
            "status",
            "related_identifiers",
            "last_updated",
            "updated_at",
        ]
        read_only_fields = fields


class SectorThemeSerializer(APIModelSerializer):
    theme = serializers.PrimaryKeyRelatedField(queryset=Theme.objects.all())
    dac_name = serializers.SerializerMethodField(help_text=_("The OECD DAC name of the code (English)."))

    class Meta:
        model = SectorTheme
        fields = ["id", "dac_code", "dac_name", "theme"]

    def get_dac_name(self, obj) -> str:
        return dac_name(obj.dac_code)


class OverlapCandidateSerializer(APIModelSerializer):
    interventions = serializers.SerializerMethodField(help_text=_("The two interventions, lower id first."))
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = OverlapCandidate
        fields = [
            "id",
            "interventions",
            "score",
            "reasons",
            "status",
            "previous_status",
            "reviewed_by",
            "reviewed_at",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_interventions(self, obj) -> list[int]:
        return obj.intervention_ids


class OverlapReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OverlapCandidate.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class UnmatchedLocationSerializer(APIModelSerializer):
    iati_identifier = serializers.CharField(source="intervention.iati_identifier", read_only=True)

    class Meta:
        model = InterventionLocation
        fields = ["id", "intervention", "iati_identifier", "name", "vocabulary", "code", "latitude", "longitude"]
        read_only_fields = fields


def _visible_locations(access, queryset):
    if access.sees_everything:
        return queryset
    return queryset.filter(intervention__in=selectors.visible_interventions(access))


class LocationAliasSerializer(APIModelSerializer):
    location = ScopedRelatedField(
        scope=_visible_locations,
        queryset=InterventionLocation.objects.all(),
        write_only=True,
        help_text=_("An unmatched location (unmatched-locations/): its name and code are remembered."),
    )
    municipality = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(), help_text=_("The Libyan municipality the location is.")
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = LocationAlias
        fields = [
            "id",
            "location",
            "label",
            "normalized_name",
            "vocabulary",
            "code",
            "municipality",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["label", "normalized_name", "vocabulary", "code", "created_by", "created_at"]
