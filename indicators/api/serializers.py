from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.serializers import (
    TEXT_MAX_LENGTH,
    APIModelSerializer,
    date_text,
    datetime_text,
    decimal_text,
    translated,
)
from partners.models import Organisation
from projects.api.base import ScopedRelatedField, via_programme, visible_programmes
from projects.models import Programme, Workstream

from ..models import (
    VALUE_DIGITS,
    Alignment,
    DisaggregationCategory,
    FunderGoal,
    Indicator,
    NationalTarget,
    Result,
    StandardIndicator,
    Target,
)
from ..services import CREATABLE_STATUSES
from ..translation import DEFINITION_TRANSLATIONS

organisations = Organisation.objects.all()
SDG_TARGETS_HELP = _("SDG target codes such as 11.3 or 16.a.")


def visible_goals(access, queryset):
    return queryset.filter(access.funder_goal_filter())


def alignable_goals(access, queryset):
    return queryset.filter(access.alignable_goal_filter())


class NationalTargetSerializer(APIModelSerializer):
    translated_fields = ("title", "description")
    owner = serializers.PrimaryKeyRelatedField(queryset=organisations, required=False, allow_null=True)
    sdg_targets = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, max_length=200, help_text=SDG_TARGETS_HELP
    )

    class Meta:
        model = NationalTarget
        fields = ["id", "code", *translated("title", "description"), "owner", "deadline", "sdg_targets"]


class FunderGoalSerializer(APIModelSerializer):
    translated_fields = ("title", "description")
    donor = serializers.PrimaryKeyRelatedField(queryset=organisations)
    parent = ScopedRelatedField(scope=visible_goals, queryset=FunderGoal.objects.all(), required=False, allow_null=True)
    sdg_targets = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, max_length=200, help_text=SDG_TARGETS_HELP
    )

    class Meta:
        model = FunderGoal
        fields = ["id", "donor", "code", *translated("title", "description"), "parent", "sdg_targets"]


class IndicatorSerializer(APIModelSerializer):
    translated_fields = DEFINITION_TRANSLATIONS
    programme = ScopedRelatedField(scope=visible_programmes, queryset=Programme.objects.all())
    workstream = ScopedRelatedField(
        scope=via_programme("programme"), queryset=Workstream.objects.all(), required=False, allow_null=True
    )
    disaggregations = serializers.SlugRelatedField(
        many=True,
        slug_field="code",
        queryset=DisaggregationCategory.objects.all(),
        required=False,
        help_text=_("Disaggregation category codes: sex, age, disability."),
    )
    # Set only by copying from the standard list (the set-up pages), so read-only here.
    standard = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text=_("The standard indicator this one was copied from (standard-indicators/)."),
    )

    class Meta:
        model = Indicator
        fields = [
            "id",
            "programme",
            "workstream",
            "code",
            *translated("name", "definition"),
            "level",
            *translated("unit"),
            "measure",
            "time_aggregation",
            "direction",
            "frequency",
            "baseline_value",
            "baseline_date",
            "lop_target",
            "disaggregations",
            "value_min",
            "value_max",
            "whole_numbers",
            *translated("data_source", "collection_method", "responsible", "known_limitations"),
            "standard",
        ]


class StandardIndicatorSerializer(APIModelSerializer):
    """A standard indicator of the ministry's list (read-only: it is kept on the set-up pages)."""

    translated_fields = IndicatorSerializer.translated_fields
    disaggregations = serializers.SlugRelatedField(
        many=True,
        slug_field="code",
        read_only=True,
        help_text=_("Disaggregation category codes: sex, age, disability."),
    )

    class Meta:
        model = StandardIndicator
        fields = [
            "id",
            "code",
            *translated("name", "definition"),
            "level",
            *translated("unit"),
            "measure",
            "time_aggregation",
            "direction",
            "frequency",
            "disaggregations",
            "value_min",
            "value_max",
            "whole_numbers",
            *translated("data_source", "collection_method", "responsible", "known_limitations"),
        ]
        read_only_fields = fields


class AlignmentSerializer(APIModelSerializer):
    indicator = ScopedRelatedField(scope=via_programme("programme"), queryset=Indicator.objects.all())
    national_target = serializers.PrimaryKeyRelatedField(
        queryset=NationalTarget.objects.all(), required=False, allow_null=True
    )
    funder_goal = ScopedRelatedField(
        scope=alignable_goals, queryset=FunderGoal.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Alignment
        fields = ["id", "indicator", "national_target", "funder_goal", "weight"]


class TargetSerializer(APIModelSerializer):
    indicator = ScopedRelatedField(scope=via_programme("programme"), queryset=Indicator.objects.all())
    municipality = serializers.PrimaryKeyRelatedField(
        queryset=organisations, required=False, allow_null=True, help_text=_("Empty for a programme-wide target.")
    )

    class Meta:
        model = Target
        fields = ["id", "indicator", "municipality", "period_start", "period_end", "value"]


class ResultSerializer(APIModelSerializer):
    """A result. On create, `status` may be `draft` (default), `submitted` or — for superusers,
    importing data verified elsewhere — `approved`; afterwards status moves only through the
    transitions.
    Updates may send `version` (or an `If-Match` header): a stale one answers 412."""

    indicator = ScopedRelatedField(scope=via_programme("programme"), queryset=Indicator.objects.all())
    municipality = serializers.PrimaryKeyRelatedField(queryset=organisations)
    disaggregation = serializers.DictField(
        child=serializers.CharField(max_length=40),
        required=False,
        help_text=_('{} for the total, or one pair {category: option}, e.g. {"sex": "female"}.'),
    )
    status = serializers.ChoiceField(
        choices=list(CREATABLE_STATUSES),
        required=False,
        help_text=_("On create only; later changes go through submit/approve/return/reopen."),
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text=_("The version you edited; a stale one answers 412.")
    )
    value = serializers.DecimalField(**VALUE_DIGITS, required=False, allow_null=True)

    class Meta:
        model = Result
        fields = [
            "id",
            "indicator",
            "municipality",
            "period_start",
            "period_end",
            "disaggregation",
            "value",
            "numerator",
            "denominator",
            "status",
            "comment",
            "evidence_url",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def to_representation(self, instance):
        # Written out (the same values DRF's fields give): lists of 1,000 results stay cheap.
        places = VALUE_DIGITS["decimal_places"]
        return {
            "id": instance.pk,
            "indicator": instance.indicator_id,
            "municipality": instance.municipality_id,
            "period_start": date_text(instance.period_start),
            "period_end": date_text(instance.period_end),
            "disaggregation": instance.disaggregation,
            "value": decimal_text(instance.value, places),
            "numerator": decimal_text(instance.numerator, places),
            "denominator": decimal_text(instance.denominator, places),
            "status": instance.status,
            "comment": instance.comment,
            "evidence_url": instance.evidence_url,
            "version": instance.version,
            "created_at": datetime_text(instance.created_at),
            "updated_at": datetime_text(instance.updated_at),
        }


class ResultRowSerializer(serializers.Serializer):
    """One row of a bulk POST: plain ids, checked together in a fixed number of queries."""

    indicator = serializers.IntegerField(min_value=1)
    municipality = serializers.IntegerField(min_value=1)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    disaggregation = serializers.DictField(child=serializers.CharField(max_length=40), required=False)
    value = serializers.DecimalField(**VALUE_DIGITS, required=False, allow_null=True)
    numerator = serializers.DecimalField(**VALUE_DIGITS, required=False, allow_null=True)
    denominator = serializers.DecimalField(**VALUE_DIGITS, required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    evidence_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    status = serializers.ChoiceField(choices=list(CREATABLE_STATUSES), required=False)


class TransitionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text=_("The version you saw; a stale one answers 412.")
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH, help_text=_("Required when returning.")
    )
