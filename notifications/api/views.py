"""notifications/ (docs/design.md §6): the signed-in user's own notifications, newest first; the
list also says how many are unread. Another user's notification answers 404."""

from collections import OrderedDict

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from common.api.pagination import NumberPagination
from notifications import selectors, services
from notifications.models import Notification

from .serializers import NotificationSerializer


class NotificationPagination(NumberPagination):
    """The contract's page, plus `unread`: how many of all the user's notifications are unread."""

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("count", self.page.paginator.count),
                    ("unread", selectors.unread_count(self.request.user)),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "unread", "results"]
        response["properties"] = {
            "count": response["properties"]["count"],
            "unread": {"type": "integer", "example": 3, "description": "unread notifications in all"},
            **{k: v for k, v in response["properties"].items() if k != "count"},
        }
        return response


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label=_("Unread only"))

    class Meta:
        model = Notification
        fields = ["kind", "unread"]


READ_ALL = inline_serializer("NotificationsMarkedRead", {"marked_read": serializers.IntegerField()})


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "id"]
    lookup_value_regex = "[^/]+"  # any id reaches the view: a malformed one is a JSON 404
    queryset = Notification.objects.none()  # the schema's model; requests read `get_queryset`

    def get_queryset(self):
        return selectors.user_notifications(self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        context["language"] = selectors.preference_of(self.request.user).language
        return context

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark this notification read (again: no change)."""
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: READ_ALL})
    @action(detail=False, methods=["post"], url_path="read-all", url_name="read-all")
    def read_all(self, request):
        """Mark every unread notification of yours read."""
        return Response({"marked_read": services.notifications_mark_read(user=request.user)})
