"""Pagination: every list answers `{count, next, previous, results}`.

Most lists page by number (`?page=3`). Results and rollups, which grow without bound, page by a
keyset cursor (`?cursor=…`, taken from `next`/`previous`): each page is an index range scan, so
page 5,000 costs what page 1 costs. Both accept `?page_size=` up to 1,000.
"""

from collections import OrderedDict

from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

MAX_PAGE_SIZE = 1000


class NumberPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class KeysetPagination(CursorPagination):
    """DRF's cursor (keyset) pagination, plus the total `count` of the contract."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "id"

    def paginate_queryset(self, queryset, request, view=None):
        self.count = queryset.order_by().count()
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("count", self.count),
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
            **response["properties"],
        }
        return response
