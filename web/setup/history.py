"""Who changed what, and when, for the set-up pages: django-simple-history's records of an object
turned into rows of field-level differences, labelled in the page's language
(templates/web/setup/history.html shows them; any set-up page may use both)."""

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.formats import date_format
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _

LANGUAGE_NAMES = {"en": _("English"), "ar": _("Arabic")}
ACTIONS = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}
LONG_TEXT = 160  # characters of a description shown in a change; the form has the whole text


@dataclass
class HistoryRow:
    when: datetime.datetime
    user: Any
    action: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (label, before, after)


def field_labels(model: type[models.Model], names: Iterable[str]) -> dict[str, str]:
    """Each field's verbose name, capitalised; a translated column (`title_ar`) names its language,
    since both columns share the field's verbose name."""
    labels = {}
    for name in names:
        base, _sep, language = name.rpartition("_")
        if language in LANGUAGE_NAMES and base:
            verbose = model._meta.get_field(base).verbose_name
            labels[name] = _("%(field)s (%(language)s)") % {
                "field": capfirst(verbose),
                "language": LANGUAGE_NAMES[language],
            }
        else:
            labels[name] = capfirst(model._meta.get_field(name).verbose_name)
    return labels


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def shown(value, *, names: Mapping[int, str] | None = None) -> str:
    """A stored value as the page shows it: dates in the page's format, lists joined, related
    objects by name (`names`: id → name), long texts shortened, nothing as a dash."""
    if _empty(value):
        return "—"
    if names is not None:
        return names.get(value) or _("(deleted)")
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, list | tuple):
        # Codes ("11.3, 16.7") hold no letter to set their direction: isolated left to right, so
        # an Arabic page does not turn the list around its commas.
        return "\u2066" + ", ".join(str(item) for item in value) + "\u2069"
    return Truncator(str(value)).chars(LONG_TEXT)


def history_rows(
    records: Iterable,
    labels: Mapping[str, str],
    *,
    related_names: Mapping[str, Mapping[int, str]] | None = None,
    render: Callable[[str, Any], str] | None = None,
) -> list[HistoryRow]:
    """The newest first. `records` are the object's historical records, oldest first, with
    `history_user` selected; `labels` the fields to compare (name → label), in the order shown;
    `related_names` maps a foreign key's field name to {id: name}. A creation lists the values it
    set; a change the fields whose value differs (nothing and an empty text count as the same)."""
    related_names = related_names or {}

    def show(name, value):
        if render is not None:
            text = render(name, value)
            if text is not None:
                return text
        return shown(value, names=related_names.get(name))

    rows = []
    previous = None
    for record in records:
        changes = []
        if previous is None:
            for name, label in labels.items():
                value = getattr(record, _attname(record, name))
                if not _empty(value):
                    changes.append((label, "—", show(name, value)))
        elif record.history_type != "-":
            delta = record.diff_against(previous, included_fields=list(labels))
            differing = {change.field: change for change in delta.changes}
            for name, label in labels.items():
                change = differing.get(name)
                if change is None or (_empty(change.old) and _empty(change.new)):
                    continue
                changes.append((label, show(name, change.old), show(name, change.new)))
        rows.append(HistoryRow(record.history_date, record.history_user, ACTIONS[record.history_type], changes))
        previous = record
    rows.reverse()
    return rows


def _attname(record, name: str) -> str:
    field_object = record._meta.get_field(name)
    return field_object.attname


def related_ids(records: Iterable, name: str) -> set[int]:
    """Every id a foreign key held over the records, to name them all with one query."""
    attname = None
    ids = set()
    for record in records:
        attname = attname or _attname(record, name)
        value = getattr(record, attname)
        if value is not None:
            ids.add(value)
    return ids
