"""A service's ValidationError as field → messages: one conversion for the API and the pages."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from common.validation import messages_by_field


def test_field_messages_are_text_under_their_field():
    error = ValidationError(
        {
            "value": [_("Enter a number."), ValidationError("At most %(max)s.", params={"max": 100})],
            "__all__": ["This result already exists."],
        }
    )
    assert messages_by_field(error) == {
        "value": ["Enter a number.", "At most 100."],
        "__all__": ["This result already exists."],
    }
    assert messages_by_field(error, non_field_key="non_field_errors") == {
        "value": ["Enter a number.", "At most 100."],
        "non_field_errors": ["This result already exists."],
    }


def test_an_error_for_no_field_goes_under_the_non_field_key():
    error = ValidationError(["Withdraw it first.", "Reload the page."])
    assert messages_by_field(error) == {"__all__": ["Withdraw it first.", "Reload the page."]}
    assert messages_by_field(ValidationError("Stale."), non_field_key="non_field_errors") == {
        "non_field_errors": ["Stale."]
    }
