"""A service's `ValidationError` as field → messages, the one shape the API and the pages show."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def messages_by_field(error: ValidationError, *, non_field_key: str = NON_FIELD_ERRORS) -> dict[str, list[str]]:
    """Each field's messages as text; messages that name no field go under `non_field_key`
    (`__all__`, as Django forms have it, unless the caller speaks DRF's `non_field_errors`)."""
    if not hasattr(error, "error_dict"):
        return {non_field_key: [str(message) for message in error.messages]}
    return {
        non_field_key if name == NON_FIELD_ERRORS else name: [str(message) for message in messages]
        for name, messages in error.message_dict.items()
    }
