from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline
from simple_history.admin import SimpleHistoryAdmin

from common.admin import ServiceAdmin, ServiceForm, TranslatedServiceAdmin, only

from . import services
from .models import (
    Alignment,
    DisaggregationCategory,
    DisaggregationOption,
    FunderGoal,
    Indicator,
    NationalTarget,
    Result,
    StandardIndicator,
    Target,
)


class SdgTargetsField(forms.CharField):
    """SDG target codes typed as a comma-separated list ("11.3, 16.7"); the service checks them."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [code.strip() for code in text.replace("؛", ",").replace("،", ",").split(",") if code.strip()]


class SdgForm(ServiceForm):
    sdg_targets = SdgTargetsField(
        label=_("SDG targets"), required=False, help_text=_("Comma-separated, for example 11.3, 16.7")
    )


class DisaggregationOptionInline(TranslationTabularInline):
    model = DisaggregationOption
    extra = 0


@admin.register(DisaggregationCategory)
class DisaggregationCategoryAdmin(TranslationAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name_en", "name_ar")
    inlines = [DisaggregationOptionInline]


@admin.register(Indicator)
class IndicatorAdmin(TranslatedServiceAdmin):
    list_display = ("code", "name", "programme", "level", "measure", "time_aggregation", "direction", "frequency")
    list_filter = ("programme", "level", "measure", "time_aggregation", "direction", "frequency", "workstream__theme")
    search_fields = ("code", "name_en", "name_ar", "definition_en", "definition_ar")
    filter_horizontal = ("disaggregations",)
    # Set by copying from the standard list, never typed.
    readonly_fields = ("standard",)
    fieldsets = (
        (None, {"fields": ("programme", "workstream", "code", ("name_en", "name_ar"), "level", "standard")}),
        (_("Definition"), {"fields": (("definition_en", "definition_ar"), ("unit_en", "unit_ar"))}),
        (
            _("How it adds up"),
            {"fields": ("measure", "time_aggregation", "direction", "frequency", "disaggregations")},
        ),
        (_("Baseline and target"), {"fields": (("baseline_value", "baseline_date"), "lop_target")}),
        (_("Plausible values"), {"fields": (("value_min", "value_max"), "whole_numbers")}),
        (
            _("Reference sheet (PIRS)"),
            {
                "fields": (
                    ("data_source_en", "data_source_ar"),
                    ("collection_method_en", "collection_method_ar"),
                    ("responsible_en", "responsible_ar"),
                    ("known_limitations_en", "known_limitations_ar"),
                )
            },
        ),
    )

    def service_create(self, request, data):
        return services.indicator_create(**data)

    def service_update(self, request, obj, data):
        return services.indicator_update(indicator=obj, **data)

    def delete_refusal(self, obj):
        return services.indicator_delete_refusal(obj)

    def service_delete(self, request, obj):
        services.indicator_delete(indicator=obj)


@admin.register(StandardIndicator)
class StandardIndicatorAdmin(TranslatedServiceAdmin):
    list_display = ("code", "name", "level", "measure", "time_aggregation", "direction", "frequency")
    list_filter = ("level", "measure", "time_aggregation", "direction", "frequency")
    search_fields = ("code", "name_en", "name_ar", "definition_en", "definition_ar")
    filter_horizontal = ("disaggregations",)
    fieldsets = (
        (None, {"fields": ("code", ("name_en", "name_ar"), "level")}),
        (_("Definition"), {"fields": (("definition_en", "definition_ar"), ("unit_en", "unit_ar"))}),
        (
            _("How it adds up"),
            {"fields": ("measure", "time_aggregation", "direction", "frequency", "disaggregations")},
        ),
        (_("Plausible values"), {"fields": (("value_min", "value_max"), "whole_numbers")}),
        (
            _("Reference sheet (PIRS)"),
            {
                "fields": (
                    ("data_source_en", "data_source_ar"),
                    ("collection_method_en", "collection_method_ar"),
                    ("responsible_en", "responsible_ar"),
                    ("known_limitations_en", "known_limitations_ar"),
                )
            },
        ),
    )

    def service_create(self, request, data):
        return services.standard_indicator_create(**data)

    def service_update(self, request, obj, data):
        return services.standard_indicator_update(standard_indicator=obj, **data)

    def delete_refusal(self, obj):
        return services.standard_indicator_delete_refusal(obj)

    def service_delete(self, request, obj):
        services.standard_indicator_delete(standard_indicator=obj)


@admin.register(Target)
class TargetAdmin(ServiceAdmin):
    list_display = ("indicator", "municipality", "period_start", "period_end", "value")
    list_filter = ("indicator__programme", "indicator", "municipality")
    search_fields = ("indicator__code", "indicator__name_en", "indicator__name_ar")
    date_hierarchy = "period_start"

    def service_create(self, request, data):
        return services.target_set(**data)

    def service_update(self, request, obj, data):
        return services.target_update(target=obj, **data)

    def service_delete(self, request, obj):
        services.target_delete(target=obj)


class ResultForm(ServiceForm):
    def clean(self):
        cleaned = super().clean()
        # Percentages are entered as numerator and denominator; the service computes the value.
        if cleaned.get("value") is None and cleaned.get("numerator") is not None:
            cleaned["value"] = Decimal(0)
        return cleaned


@admin.register(Result)
class ResultAdmin(ServiceAdmin, SimpleHistoryAdmin):
    form = ResultForm
    list_display = (
        "indicator",
        "municipality",
        "period_start",
        "period_end",
        "disaggregation_category",
        "disaggregation_option",
        "value",
        "status",
    )
    list_filter = ("status", "indicator__programme", "municipality", "disaggregation_category", "period_start")
    search_fields = ("indicator__code", "indicator__name_en", "indicator__name_ar", "comment")
    date_hierarchy = "period_start"
    actions = ["submit_results", "approve_results", "reopen_results"]
    fields = (
        "indicator",
        "municipality",
        ("period_start", "period_end"),
        ("disaggregation_category", "disaggregation_option"),
        "value",
        ("numerator", "denominator"),
        "status",
        "comment",
        "evidence_url",
        "version",
    )
    readonly_fields = ("version",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return (
            "indicator",
            "municipality",
            "period_start",
            "period_end",
            "disaggregation_category",
            "disaggregation_option",
            "status",
            "version",
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "value" in form.base_fields:
            form.base_fields["value"].required = False
        return form

    def service_create(self, request, data):
        category = data.get("disaggregation_category") or ""
        return services.result_create(
            **only(
                data,
                "indicator",
                "municipality",
                "period_start",
                "period_end",
                "numerator",
                "denominator",
                "comment",
                "evidence_url",
                "status",
            ),
            value=data.get("value"),
            disaggregation={category: data.get("disaggregation_option") or ""} if category else {},
            user=request.user,
        )

    def service_update(self, request, obj, data):
        return services.result_update(result=obj, user=request.user, **only(data, *services.RESULT_VALUE_FIELDS))

    def delete_refusal(self, obj):
        return services.result_change_refusal(obj)

    def service_delete(self, request, obj):
        services.result_delete(result=obj, user=request.user)

    def _transition(self, request, queryset, service, done_message):
        done = 0
        for result in queryset:
            try:
                service(result=result, user=request.user)
                done += 1
            except ValidationError as error:
                self.message_user(request, f"{result}: {'; '.join(error.messages)}", messages.ERROR)
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Submit selected results"))
    def submit_results(self, request, queryset):
        self._transition(request, queryset, services.result_submit, _("%(count)s results submitted."))

    @admin.action(description=_("Approve selected results"))
    def approve_results(self, request, queryset):
        self._transition(request, queryset, services.result_approve, _("%(count)s results approved."))

    @admin.action(description=_("Reopen selected results"))
    def reopen_results(self, request, queryset):
        self._transition(request, queryset, services.result_reopen, _("%(count)s results reopened."))


@admin.register(NationalTarget)
class NationalTargetAdmin(TranslatedServiceAdmin):
    form = SdgForm
    list_display = ("code", "title", "owner", "deadline", "sdg_targets")
    list_filter = ("owner", "deadline")
    search_fields = ("code", "title_en", "title_ar")
    fields = (
        "code",
        ("title_en", "title_ar"),
        ("description_en", "description_ar"),
        "owner",
        "deadline",
        "sdg_targets",
    )

    def service_create(self, request, data):
        return services.national_target_create(**data)

    def service_update(self, request, obj, data):
        return services.national_target_update(national_target=obj, **data)

    def delete_refusal(self, obj):
        return services.national_target_delete_refusal(obj)

    def service_delete(self, request, obj):
        services.national_target_delete(national_target=obj)


@admin.register(FunderGoal)
class FunderGoalAdmin(TranslatedServiceAdmin):
    form = SdgForm
    list_display = ("code", "title", "donor", "parent")
    list_filter = ("donor",)
    search_fields = ("code", "title_en", "title_ar")
    fields = ("donor", "parent", "code", ("title_en", "title_ar"), ("description_en", "description_ar"), "sdg_targets")

    def service_create(self, request, data):
        return services.funder_goal_create(**data)

    def service_update(self, request, obj, data):
        return services.funder_goal_update(funder_goal=obj, **data)

    def service_delete(self, request, obj):
        services.funder_goal_delete(funder_goal=obj)

    def delete_refusal(self, obj):
        return services.funder_goal_delete_refusal(obj)


@admin.register(Alignment)
class AlignmentAdmin(ServiceAdmin):
    list_display = ("indicator", "national_target", "funder_goal", "weight")
    list_filter = ("indicator__programme", "national_target", "funder_goal__donor")
    search_fields = ("indicator__code", "indicator__name_en", "national_target__code", "funder_goal__code")

    def service_create(self, request, data):
        return services.alignment_create(**data)

    def service_update(self, request, obj, data):
        return services.alignment_update(alignment=obj, **data)

    def service_delete(self, request, obj):
        services.alignment_delete(alignment=obj)
