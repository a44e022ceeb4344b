"""Pagination: every list answers `{count, next, previous, results}`.

Most lists page by number (`?page=3`). Results and rollups, which grow without bound, page by a
keyset cursor (`?cursor=…`, taken from `next`/`previous`): each page is an index range scan, so
page 5,000 costs what page 1 costs. Both accept `?page_size=` up to 1,000.

Counting a whole table of millions of rows costs more than the page itself; so when a keyset list
is not filtered at all (a user who sees everything, no query parameters) and PostgreSQL's own
estimate says the table is large, `count` is that estimate and `count_is_estimate` says so.
Any filter or scope gives the exact count.
"""

from collections import OrderedDict

from django.db import connections
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

MAX_PAGE_SIZE = 1000
ESTIMATE_COUNTS_ABOVE = 200_000


class NumberPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class KeysetPagination(CursorPagination):
    """DRF's cursor (keyset) pagination, plus the total `count` of the contract."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "id"

    def paginate_queryset(self, queryset, request, view=None):
        self.count, self.count_is_estimate = self.count_rows(queryset)
        return super().paginate_queryset(queryset, request, view)

    @staticmethod
    def count_rows(queryset) -> tuple[int, bool]:
        connection = connections[queryset.db]
        if not queryset.query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] > ESTIMATE_COUNTS_ABOVE:
                return row[0], True
        return queryset.order_by().count(), False

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("count", self.count),
                    ("count_is_estimate", self.count_is_estimate),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "results"]
        response["properties"] = {
            "count": {"type": "integer", "example": 123},
            "count_is_estimate": {"type": "boolean", "description": "true when count is PostgreSQL's estimate"},
            **response["properties"],
        }
        return response
