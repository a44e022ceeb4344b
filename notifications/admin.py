from django.contrib import admin

from common.admin import ServiceAdmin

from . import services
from .models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are made by the services and read by their recipients."""

    list_display = ("created_at", "recipient", "kind", "read_at", "emailed_at")
    list_filter = ("kind", "language")
    search_fields = ("recipient__username", "recipient__email", "message")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ServiceAdmin):
    list_display = ("user", "email", "language")
    list_filter = ("email", "language")
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)

    def service_create(self, request, data):
        return services.preference_update(user=data["user"], email=data.get("email"), language=data.get("language"))

    def service_update(self, request, obj, data):
        return services.preference_update(user=obj.user, email=data.get("email"), language=data.get("language"))
