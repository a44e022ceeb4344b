"""The viewset base of every resource: querysets scoped by `projects.access` (who sees what),
writes delegated to the services.

An object outside the user's view is not in the queryset, so it answers 404 in lists, by id and
through filters alike. A write the user's role does not allow answers 403: first coarsely (a
viewer-only user never reaches validation), then for the object or the data at hand.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from common.api.views import FILTER_BACKENDS
from projects.access import Access, access_for

NOT_ALLOWED = _("Your role does not allow this change.")


class ServicePermission(permissions.IsAuthenticated):
    """Signed-in users read what their querysets hold; writes ask the view."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return view.may_write(access_for(request.user))

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return view.may_write_object(access_for(request.user), obj)


class ServiceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Subclasses define `scope(queryset, access)`, `may_write`, `may_write_object`,
    `may_write_data` and the service calls `create_object`, `update_object`, `delete_object`.
    Without `delete_object` the resource has no DELETE."""

    permission_classes = [ServicePermission]
    filter_backends = FILTER_BACKENDS
    permission_denied_message = NOT_ALLOWED
    base_queryset = None
    # Any id reaches the view, so a malformed one is a JSON 404 rather than the site's HTML page.
    lookup_value_regex = "[^/]+"

    @property
    def access(self) -> Access:
        return access_for(self.request.user)

    # Reads --------------------------------------------------------------------------------

    def scope(self, queryset, access: Access):
        return queryset

    def get_queryset(self):
        return self.scope(self.base_queryset.all(), self.access)

    # Who may write ------------------------------------------------------------------------

    def may_write(self, access: Access) -> bool:
        return access.is_superuser

    def may_write_object(self, access: Access, obj) -> bool:
        return access.is_superuser

    def may_write_data(self, access: Access, data: dict, instance=None) -> bool:
        return True

    def permission_denied(self, request, message=None, code=None):
        super().permission_denied(request, message=message or self.permission_denied_message, code=code)

    def check_data(self, data: dict, instance=None) -> None:
        if not self.may_write_data(self.access, data, instance):
            raise PermissionDenied(self.permission_denied_message)

    # Writes through the services ----------------------------------------------------------

    def create_object(self, data: dict):
        raise NotImplementedError

    def update_object(self, instance, data: dict):
        raise NotImplementedError

    def reload(self, instance):
        """The object as the list shows it (prefetched), once written."""
        return self.get_queryset().filter(pk=instance.pk).first() or instance

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        self.check_data(data)
        with transaction.atomic():
            instance = self.create_object(data)
        serializer.instance = self.reload(instance)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        self.check_data(data, serializer.instance)
        with transaction.atomic():
            instance = self.update_object(serializer.instance, data)
        serializer.instance = self.reload(instance)

    def perform_destroy(self, instance):
        self.delete_object(instance)

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        if actions and "delete" in actions and not hasattr(cls, "delete_object"):
            actions = {method: action for method, action in actions.items() if method != "delete"}
        return super().as_view(actions, **initkwargs)


class ReferenceDataViewSet(ServiceViewSet):
    """Shared reference lists (organisations, themes): whoever may edit reference data writes."""

    def may_write(self, access: Access) -> bool:
        return access.can_edit_reference_data()

    def may_write_object(self, access: Access, obj) -> bool:
        return access.can_edit_reference_data()


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id that must be among the objects the requesting user sees: anything else is
    refused as an unknown id, naming the field (so outside objects are indistinguishable from
    missing ones). `scope(access, queryset)` narrows the queryset."""

    def __init__(self, scope=None, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.scope is None:
            return queryset
        request = self.context.get("request")
        return self.scope(access_for(getattr(request, "user", None)), queryset)


def visible_programmes(access, queryset):
    return queryset.filter(access.programme_filter())


def via_programme(path: str):
    def scope(access, queryset):
        return queryset.filter(access.programme_filter(path))

    return scope
