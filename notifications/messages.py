"""The words of each kind of notification, rendered from its stored parameters in a language.

Parameters hold everything a message needs in both languages (names as {"en": ..., "ar": ...},
dates as ISO strings), so rendering costs no query and a page in the other language shows the
same notification in its own words.
"""

import datetime
from typing import Any

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from partners.models import Membership

from .models import Notification

Kind = Notification.Kind

MESSAGES = {
    Kind.RESULT_SUBMITTED: _(
        "%(actor)s submitted results of %(indicator)s for %(municipality)s, %(period)s. They are waiting for "
        "your approval."
    ),
    Kind.RESULT_RETURNED: _(
        "%(actor)s returned results of %(indicator)s for %(municipality)s, %(period)s: “%(comment)s”"
    ),
    Kind.RESULT_APPROVED: _("%(actor)s approved results of %(indicator)s for %(municipality)s, %(period)s."),
    Kind.REPORT_DUE: _("Results of %(indicator)s for %(municipality)s, %(period)s, are due on %(due)s."),
    Kind.REPORT_OVERDUE: _(
        "Results of %(indicator)s for %(municipality)s, %(period)s, were due on %(due)s and have not been submitted."
    ),
    Kind.OVERLAP_FOUND: _("A possible overlap of donor-funded work was found: %(detail)s"),
    Kind.INVITATION: _("You were added to %(organisation)s as %(role)s."),
}

# E-mail subjects, one line.
SUBJECTS = {
    Kind.RESULT_SUBMITTED: _("Results to approve: %(indicator_code)s, %(municipality)s"),
    Kind.RESULT_RETURNED: _("Results returned: %(indicator_code)s, %(municipality)s"),
    Kind.RESULT_APPROVED: _("Results approved: %(indicator_code)s, %(municipality)s"),
    Kind.REPORT_DUE: _("Results due on %(due)s: %(indicator_code)s, %(municipality)s"),
    Kind.REPORT_OVERDUE: _("Results overdue: %(indicator_code)s, %(municipality)s"),
    Kind.OVERLAP_FOUND: _("Possible overlap found"),
    Kind.INVITATION: _("You were added to %(organisation)s"),
}


def _in(language: str, names: Any) -> str:
    """A name kept in both languages ({"en", "ar"}), in `language`, falling back to the other."""
    if not isinstance(names, dict):
        return str(names or "")
    other = "en" if language == "ar" else "ar"
    return names.get(language) or names.get(other) or ""


def _day(value: str | None) -> str:
    if not value:
        return ""
    return date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT")


def _values(parameters: dict[str, Any], language: str) -> dict[str, str]:
    start, end = parameters.get("period_start"), parameters.get("period_end")
    code = parameters.get("indicator_code", "")
    name = _in(language, parameters.get("indicator_name"))
    return {
        "actor": parameters.get("actor", ""),
        "indicator_code": code,
        "indicator": f"{code} {name}".strip(),
        "municipality": _in(language, parameters.get("municipality")),
        "period": f"{_day(start)} – {_day(end)}" if start else "",
        "due": _day(parameters.get("due")),
        "comment": parameters.get("comment", ""),
        "detail": _in(language, parameters.get("detail")),
        "organisation": _in(language, parameters.get("organisation")),
        "role": str(Membership.Role(parameters["role"]).label) if parameters.get("role") in Membership.Role else "",
    }


def render(kind: str, parameters: dict[str, Any], language: str) -> str:
    """The message of a notification of `kind` in `language`."""
    with translation.override(language):
        return str(MESSAGES[kind]) % _values(parameters, language)


def render_subject(kind: str, parameters: dict[str, Any], language: str) -> str:
    with translation.override(language):
        return str(SUBJECTS[kind]) % _values(parameters, language)


def shown(notification: Notification, language: str) -> str:
    """The message to show on a page or in the API in `language`: the stored text when it is in
    that language, else rendered again from the parameters."""
    if notification.language == language or notification.kind not in MESSAGES:
        return notification.message
    try:
        return render(notification.kind, notification.parameters, language)
    except (KeyError, TypeError, ValueError):  # parameters of an older shape: the stored text
        return notification.message
