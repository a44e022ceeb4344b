from rest_framework import serializers

from notifications import messages
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    """`message` in the user's language (their preference; `context["language"]`)."""

    message = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "url", "created_at", "read_at"]
        read_only_fields = fields

    def get_message(self, notification: Notification) -> str:
        return messages.shown(notification, self.context.get("language") or notification.language)
