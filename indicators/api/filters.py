import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from ..models import Result

DISAGGREGATION_HELP = _(
    "`total` (or empty) for totals, `sex` for every option of a category, `sex:female` for one option."
)


def filter_disaggregation(queryset, name, value):
    value = (value or "").strip()
    if value in ("", "total"):
        return queryset.filter(disaggregation_category="")
    category, _sep, option = value.partition(":")
    if not category or len(category) > 40 or len(option) > 40:
        raise ValidationError({"disaggregation": [str(DISAGGREGATION_HELP)]})
    queryset = queryset.filter(disaggregation_category=category)
    return queryset.filter(disaggregation_option=option) if option else queryset


class ResultFilter(django_filters.FilterSet):
    # Plain numbers (no lookup query to validate them): an unknown id simply matches nothing.
    programme = django_filters.NumberFilter(field_name="indicator__programme")
    indicator = django_filters.NumberFilter(field_name="indicator_id")
    municipality = django_filters.NumberFilter(field_name="municipality_id")
    disaggregation = django_filters.CharFilter(method="by_disaggregation", help_text=DISAGGREGATION_HELP)

    class Meta:
        model = Result
        fields = {
            "status": ["exact"],
            "period_start": ["exact", "gte", "lte"],
            "period_end": ["exact", "gte", "lte"],
        }

    def by_disaggregation(self, queryset, name, value):
        return filter_disaggregation(queryset, name, value)
