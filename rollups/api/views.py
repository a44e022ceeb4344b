"""rollups/: the computed progress cells, read-only, over what the user sees."""

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from common.api.pagination import KeysetPagination
from common.api.serializers import date_text, datetime_text, decimal_text
from common.api.views import ValuesListMixin
from indicators.api.filters import DISAGGREGATION_HELP, filter_disaggregation
from projects.access import access_for
from rollups.models import Rollup


class RollupSerializer(serializers.ModelSerializer):
    disaggregation = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Rollup
        fields = [
            "id",
            "indicator",
            "scope",
            "scope_id",
            "period_start",
            "period_end",
            "disaggregation",
            "actual",
            "target",
            "percent_of_target",
            "status",
            "target_to_date",
            "percent_to_date",
            "status_to_date",
            "as_of",
            "computed_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        # Written out (the same values DRF's fields give): pages of 1,000 rollups stay cheap.
        return {
            "id": instance.pk,
            "indicator": instance.indicator_id,
            "scope": instance.scope,
            "scope_id": instance.scope_id,
            "period_start": date_text(instance.period_start),
            "period_end": date_text(instance.period_end),
            "disaggregation": instance.disaggregation,
            "actual": decimal_text(instance.actual, 6),
            "target": decimal_text(instance.target, 6),
            "percent_of_target": decimal_text(instance.percent_of_target, 2),
            "status": instance.status,
            # Life-of-programme rows only (docs/design.md §4, progress to date): null on period rows.
            "target_to_date": decimal_text(instance.target_to_date, 6),
            "percent_to_date": decimal_text(instance.percent_to_date, 2),
            "status_to_date": instance.status_to_date,
            "as_of": date_text(instance.as_of),
            "computed_at": datetime_text(instance.computed_at),
        }


class RollupFilter(django_filters.FilterSet):
    programme = django_filters.NumberFilter(field_name="indicator__programme")
    indicator = django_filters.NumberFilter(field_name="indicator_id")
    disaggregation = django_filters.CharFilter(method="by_disaggregation", help_text=DISAGGREGATION_HELP)
    lop = django_filters.BooleanFilter(
        field_name="period_start", lookup_expr="isnull", help_text=_("true: only life-of-programme rows.")
    )

    class Meta:
        model = Rollup
        fields = {
            "scope": ["exact"],
            "scope_id": ["exact"],
            "status": ["exact"],
            "status_to_date": ["exact"],
            "period_start": ["exact", "gte", "lte"],
            "period_end": ["exact", "gte", "lte"],
        }

    def by_disaggregation(self, queryset, name, value):
        return filter_disaggregation(queryset, name, value)


ROLLUP_COLUMNS = (
    "id", "indicator_id", "scope", "scope_id", "period_start", "period_end", "disaggregation_category",
    "disaggregation_option", "actual", "target", "percent_of_target", "status", "target_to_date",
    "percent_to_date", "status_to_date", "as_of", "computed_at",
)  # fmt: skip


class RollupViewSet(ValuesListMixin, viewsets.ReadOnlyModelViewSet):
    """Computed progress cells (docs/design.md §4), never edited. Municipality rows of a programme seen only
    through a municipality are limited to that municipality."""

    lookup_value_regex = "[^/]+"

    serializer_class = RollupSerializer
    pagination_class = KeysetPagination
    list_columns = ROLLUP_COLUMNS
    filterset_class = RollupFilter
    ordering_fields = ["id", "period_start", "computed_at"]
    ordering = ["id"]

    def get_queryset(self):
        return Rollup.objects.filter(access_for(self.request.user).rollup_filter())
