"""The viewset base of every resource: querysets scoped by `projects.access` (DESIGN §7), writes
delegated to the services.

An object outside the user's view is not in the queryset, so it answers 404 in lists, by id and
through filters alike. A write the user's role does not allow answers 403: first coarsely (a
viewer-only user never reaches validation), then for the object or the data at hand.
"""

import django_filters
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, mixins, permissions, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

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


class IdFilterSet(django_filters.FilterSet):
    """Foreign keys (and many-to-many fields) filter by plain id: an unknown id, or one outside the
    user's view, matches nothing (an empty list), so a filter never tells the two apart. A value
    that is not a number is a 400 naming the parameter."""

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        if field.is_relation and lookup_type == "exact":
            return django_filters.NumberFilter, {"distinct": bool(field.many_to_many)}
        return super().filter_for_lookup(field, lookup_type)


class IdFilterBackend(DjangoFilterBackend):
    filterset_base = IdFilterSet


FILTER_BACKENDS = [IdFilterBackend, filters.OrderingFilter]


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


class JSONErrorsMixin:
    """For views that also answer CSV, XLSX or XML: refusals are always JSON."""

    def handle_exception(self, exc):
        from rest_framework.renderers import JSONRenderer

        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


def filterset_for(model, fields: dict, **extra):
    """A FilterSet over `fields` (as `filterset_fields`) plus named extra filters,
    e.g. programme=NumberFilter(field_name="workstream__programme")."""
    meta = type("Meta", (), {"model": model, "fields": fields})
    return type(f"{model.__name__}FilterSet", (IdFilterSet,), {"Meta": meta, **extra})


class ValuesListMixin:
    """Lists read `.values(*list_columns)` and hand `Row`s to the serializer: no model objects
    for pages of up to 1,000 rows. Keyset pagination reads positions from the dicts."""

    list_columns: tuple[str, ...] = ()

    def list(self, request, *args, **kwargs):
        from .serializers import Row

        queryset = self.filter_queryset(self.get_queryset()).values(*self.list_columns)
        page = self.paginate_queryset(queryset)
        rows = [Row(item) for item in (page if page is not None else queryset)]
        data = self.get_serializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)
