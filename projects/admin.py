from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from common.admin import TranslatedServiceAdmin

from . import services
from .models import Activity, Programme, Theme, Twinning, Workstream


@admin.register(Programme)
class ProgrammeAdmin(TranslatedServiceAdmin):
    list_display = ("code", "name", "status", "implementer", "start_date", "end_date", "budget", "currency")
    list_filter = ("status", "donors", "implementer", "fiscal_year_start_month")
    search_fields = ("code", "name_en", "name_ar", "iati_identifier")
    date_hierarchy = "start_date"
    filter_horizontal = ("donors",)
    fieldsets = (
        (None, {"fields": ("code", ("name_en", "name_ar"), ("description_en", "description_ar"), "status")}),
        (_("Partners"), {"fields": ("donors", "implementer", "counterpart")}),
        (
            _("Dates and money"),
            {"fields": (("start_date", "end_date"), "fiscal_year_start_month", ("budget", "currency"))},
        ),
        (_("Reporting"), {"fields": ("reporting_due_days", "iati_identifier")}),
    )

    def service_create(self, request, data):
        return services.programme_create(**data)

    def service_update(self, request, obj, data):
        return services.programme_update(programme=obj, **data)


@admin.register(Twinning)
class TwinningAdmin(TranslatedServiceAdmin):
    list_display = ("name", "programme", "status", "signed_on")
    list_filter = ("status", "programme")
    search_fields = ("name_en", "name_ar", "municipalities__name_en", "municipalities__name_ar")
    filter_horizontal = ("municipalities",)
    fields = ("programme", ("name_en", "name_ar"), "municipalities", ("signed_on", "status"))

    def service_create(self, request, data):
        return services.twinning_create(**data)

    def service_update(self, request, obj, data):
        return services.twinning_update(twinning=obj, **data)

    def service_delete(self, request, obj):
        services.twinning_delete(twinning=obj)


@admin.register(Theme)
class ThemeAdmin(TranslatedServiceAdmin):
    list_display = ("code", "name", "dac_sector")
    search_fields = ("code", "name_en", "name_ar")
    fields = ("code", ("name_en", "name_ar"), ("description_en", "description_ar"), "dac_sector")

    def service_create(self, request, data):
        return services.theme_create(**data)

    def service_update(self, request, obj, data):
        return services.theme_update(theme=obj, **data)


@admin.register(Workstream)
class WorkstreamAdmin(TranslatedServiceAdmin):
    list_display = ("name", "programme", "theme", "twinning", "lead")
    list_filter = ("programme", "theme")
    search_fields = ("name_en", "name_ar")
    filter_horizontal = ("municipalities",)
    fields = (
        "programme",
        "twinning",
        "theme",
        ("name_en", "name_ar"),
        ("description_en", "description_ar"),
        "lead",
        "municipalities",
    )

    def service_create(self, request, data):
        return services.workstream_create(**data)

    def service_update(self, request, obj, data):
        return services.workstream_update(workstream=obj, **data)

    def service_delete(self, request, obj):
        services.workstream_delete(workstream=obj)


@admin.register(Activity)
class ActivityAdmin(TranslatedServiceAdmin):
    list_display = ("title", "kind", "workstream", "municipality", "start_date", "status")
    list_filter = ("kind", "status", "workstream__programme", "workstream__theme", "municipality")
    search_fields = ("title_en", "title_ar", "lessons_learned_en", "lessons_learned_ar")
    date_hierarchy = "start_date"
    fieldsets = (
        (None, {"fields": ("workstream", "kind", ("title_en", "title_ar"), ("description_en", "description_ar"))}),
        (_("When and where"), {"fields": (("start_date", "end_date"), "municipality", "status")}),
        (
            _("Participants"),
            {
                "fields": (
                    ("participants_female", "participants_male"),
                    ("participants_youth", "participants_with_disability"),
                )
            },
        ),
        (_("Lessons learned"), {"fields": (("lessons_learned_en", "lessons_learned_ar"),)}),
    )

    def service_create(self, request, data):
        return services.activity_create(**data)

    def service_update(self, request, obj, data):
        return services.activity_update(activity=obj, user=request.user, **data)

    def service_delete(self, request, obj):
        services.activity_delete(activity=obj)
