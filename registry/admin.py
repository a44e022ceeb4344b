"""The registry in the admin: read and correct what the services keep. Interventions and
imports come from files and programmes, so they are read-only here; the sector mapping and the
location aliases are written through the services."""

from django.contrib import admin

from common.admin import ServiceAdmin, only

from . import services
from .models import IatiImport, Intervention, LocationAlias, OverlapCandidate, SectorTheme


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IatiImport)
class IatiImportAdmin(ReadOnlyAdmin):
    list_display = (
        "file_name",
        "created_at",
        "status",
        "activities_created",
        "activities_updated",
        "activities_skipped",
    )
    list_filter = ("status",)


@admin.register(Intervention)
class InterventionAdmin(ReadOnlyAdmin):
    list_display = ("title", "source", "iati_identifier", "start_date", "end_date", "budget", "currency")
    list_filter = ("source", "status")
    search_fields = ("title_en", "title_ar", "iati_identifier")


@admin.register(OverlapCandidate)
class OverlapCandidateAdmin(ReadOnlyAdmin):
    list_display = ("id", "intervention_a", "intervention_b", "score", "status", "reviewed_at")
    list_filter = ("status",)


@admin.register(SectorTheme)
class SectorThemeAdmin(ServiceAdmin):
    list_display = ("dac_code", "theme")
    list_filter = ("theme",)
    search_fields = ("dac_code",)

    def service_create(self, request, data):
        return services.sector_theme_create(**only(data, "dac_code", "theme"))

    def service_update(self, request, obj, data):
        code, theme = data.get("dac_code", obj.dac_code), data.get("theme", obj.theme)
        services.sector_theme_delete(mapping=obj)
        return services.sector_theme_create(dac_code=code, theme=theme)

    def service_delete(self, request, obj):
        services.sector_theme_delete(mapping=obj)


@admin.register(LocationAlias)
class LocationAliasAdmin(ReadOnlyAdmin):
    list_display = ("label", "municipality", "normalized_name", "vocabulary", "code", "created_by", "created_at")
    search_fields = ("label", "normalized_name", "code")

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
