from rest_framework import serializers

from common.api.serializers import APIModelSerializer, translated
from partners.models import Organisation
from projects.api.base import ScopedRelatedField, via_programme, visible_programmes

from ..models import Activity, Programme, Theme, Twinning, Workstream

organisations = Organisation.objects.all()


class ProgrammeSerializer(APIModelSerializer):
    translated_fields = ("name", "description")
    donors = serializers.PrimaryKeyRelatedField(many=True, queryset=organisations, required=False)
    implementer = serializers.PrimaryKeyRelatedField(queryset=organisations, required=False, allow_null=True)
    counterpart = serializers.PrimaryKeyRelatedField(queryset=organisations, required=False, allow_null=True)

    class Meta:
        model = Programme
        fields = [
            "id",
            "code",
            *translated("name", "description"),
            "donors",
            "implementer",
            "counterpart",
            "start_date",
            "end_date",
            "budget",
            "currency",
            "status",
            "iati_identifier",
            "fiscal_year_start_month",
            "reporting_due_days",
        ]


class TwinningSerializer(APIModelSerializer):
    translated_fields = ("name",)
    programme = ScopedRelatedField(scope=visible_programmes, queryset=Programme.objects.all())
    municipalities = serializers.PrimaryKeyRelatedField(many=True, queryset=organisations)

    class Meta:
        model = Twinning
        fields = ["id", "programme", "municipalities", *translated("name"), "signed_on", "status"]


class ThemeSerializer(APIModelSerializer):
    translated_fields = ("name", "description")

    class Meta:
        model = Theme
        fields = ["id", "code", *translated("name", "description"), "dac_sector"]


class WorkstreamSerializer(APIModelSerializer):
    translated_fields = ("name", "description")
    programme = ScopedRelatedField(scope=visible_programmes, queryset=Programme.objects.all())
    twinning = ScopedRelatedField(
        scope=via_programme("programme"), queryset=Twinning.objects.all(), required=False, allow_null=True
    )
    theme = serializers.PrimaryKeyRelatedField(queryset=Theme.objects.all())
    lead = serializers.PrimaryKeyRelatedField(queryset=organisations, required=False, allow_null=True)
    municipalities = serializers.PrimaryKeyRelatedField(many=True, queryset=organisations, required=False)

    class Meta:
        model = Workstream
        fields = [
            "id",
            "programme",
            "twinning",
            "theme",
            *translated("name", "description"),
            "lead",
            "municipalities",
        ]


class ActivitySerializer(APIModelSerializer):
    translated_fields = ("title", "description", "lessons_learned")
    workstream = ScopedRelatedField(scope=via_programme("programme"), queryset=Workstream.objects.all())
    municipality = serializers.PrimaryKeyRelatedField(queryset=organisations, required=False, allow_null=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "workstream",
            "kind",
            *translated("title", "description"),
            "start_date",
            "end_date",
            "municipality",
            "status",
            "participants_female",
            "participants_male",
            "participants_youth",
            "participants_with_disability",
            *translated("lessons_learned"),
        ]
