"""What free text may hold, and how text already stored is made safe to export.

Control characters (other than tab and newline; a carriage return only as part of a CRLF line
break, which is how browsers send a textarea) have no place in a name or a comment and break XML
and XLSX writers. Bidirectional override and isolate characters (U+202A–U+202E, U+2066–U+2069)
can make a code or a name read differently from what it is ("Trojan Source"), so codes and
names refuse them; ordinary right-to-left and left-to-right marks (U+200E, U+200F) stay allowed.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# A lone carriage return or any other control character; tab, newline and CRLF are kept.
_UNEXPORTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_error(value: str, *, identifier: bool = False) -> str | None:
    """Why `value` cannot be stored, or None. `identifier`: a code or a name, which also refuses
    bidirectional controls."""
    if CONTROL_CHARACTERS.search(value):
        return _("Remove the control characters (invisible characters such as \\x07) from this text.")
    if identifier and BIDI_CONTROLS.search(value):
        return _(
            "Remove the bidirectional control characters (U+202A–U+202E, U+2066–U+2069) from this "
            "text: they can make it read differently from what it is."
        )
    return None


def validate_text(value: str) -> None:
    message = text_error(value)
    if message:
        raise ValidationError(message, code="control_characters")


def validate_identifier_text(value: str) -> None:
    message = text_error(value, identifier=True)
    if message:
        raise ValidationError(message, code="control_characters")


def exportable(value):
    """Text made safe for an XML or XLSX writer: control characters that XML 1.0 cannot hold are
    removed (rows stored before they were refused must not break a download). Non-text values
    pass unchanged."""
    if isinstance(value, str):
        return _UNEXPORTABLE.sub("", value)
    return value


# Codes name things in file names, URLs and other systems: letters (in any script), digits, "-"
# and "_". Outline codes of results frameworks ("IR1.1") may also use ".".
code_validator = RegexValidator(
    r"^[\w-]+\Z", _("Use only letters, digits, hyphens (-) and underscores (_) in a code."), code="invalid_code"
)
outline_code_validator = RegexValidator(
    r"^[\w.-]+\Z",
    _("Use only letters, digits, full stops (.), hyphens (-) and underscores (_) in a code."),
    code="invalid_code",
)
