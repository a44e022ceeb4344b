"""View helpers that know no domain: id filters, JSON refusals for views that also answer
files, and lists read as `.values()` rows. The access-scoped viewset base is
`projects.api.base.ServiceViewSet`."""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters
from rest_framework.response import Response


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
