from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from common.admin import ServiceAdmin, TranslatedServiceAdmin, only

from . import services
from .models import Membership, Organisation


@admin.register(Organisation)
class OrganisationAdmin(TranslatedServiceAdmin):
    list_display = ("name", "acronym", "kind", "country", "region", "population")
    list_filter = ("kind", "country")
    search_fields = ("name_en", "name_ar", "acronym", "iati_ref", "region_en", "region_ar")
    fieldsets = (
        (None, {"fields": ("kind", ("name_en", "name_ar"), "acronym")}),
        (
            _("Place"),
            {"fields": ("country", ("region_en", "region_ar"), "population", "pcode", ("latitude", "longitude"))},
        ),
        (_("Reporting"), {"fields": ("iati_ref",)}),
    )

    def service_create(self, request, data):
        return services.organisation_create(**data)

    def service_update(self, request, obj, data):
        return services.organisation_update(organisation=obj, user=request.user, **data)


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    list_display = ("user", "organisation", "role")
    list_filter = ("role", "organisation__kind", "organisation")
    search_fields = ("user__username", "user__email", "organisation__name_en", "organisation__name_ar")
    autocomplete_fields = ("user", "organisation")

    def service_create(self, request, data):
        return services.membership_create(**only(data, "user", "organisation", "role"))

    def service_update(self, request, obj, data):
        return services.membership_update(membership=obj, **data)
