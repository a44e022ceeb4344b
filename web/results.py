"""The result entry grid: one indicator, one municipality, one period; the total and every
disaggregation option in rows. A grid is saved all or nothing by `indicators.services.results_upsert`,
the one write path it shares with spreadsheet imports and the bulk API: rows left as stored write
nothing, emptied rows are deleted."""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext_lazy as _

from indicators.models import DisaggregationOption, Indicator, Result
from indicators.services import (
    BulkValidationError,
    ResultRow,
    StaleVersion,
    result_change_refusal,
    result_withdraw,
    results_upsert,
)
from partners.models import Organisation

CELL_FIELDS = ("value", "numerator", "denominator", "comment", "evidence_url")


def parse_decimal(raw: str) -> tuple[Decimal | None, str | None]:
    """A number as typed: blank is None; Arabic-Indic digits and the Arabic decimal separator are
    accepted, since Arabic keyboards produce them, and on Arabic pages a decimal comma."""
    text = (raw or "").strip()
    if not text:
        return None, None
    text = text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789."))
    text = text.replace("٬", "").replace(" ", "")
    if get_language_bidi() and "," in text and "." not in text:
        # Arabic pages show decimals with a comma (as in Libya); accept it back.
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, str(_("Enter a number, for example 12 or 12.5."))
    if not number.is_finite():
        return None, str(_("Enter a number, for example 12 or 12.5."))
    return number, None


@dataclass
class GridRow:
    key: str
    category: str
    option: str
    label: str
    category_label: str = ""
    result: Result | None = None
    value: str = ""
    numerator: str = ""
    denominator: str = ""
    comment: str = ""
    evidence_url: str = ""
    version: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def locked(self) -> bool:
        return self.result is not None and result_change_refusal(self.result) is not None

    @property
    def disaggregation(self) -> dict[str, str]:
        return {self.category: self.option} if self.category else {}

    def add_error(self, field_name: str, message: str) -> None:
        name = field_name if field_name in CELL_FIELDS else "__all__"
        self.errors.setdefault(name, []).append(str(message))

    @property
    def row_errors(self) -> list[str]:
        return self.errors.get("__all__", [])


def _text(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


DIGITS = "[0-9٠-٩۰-۹]+"
FRACTION = "([.,٫][0-9٠-٩۰-۹]+)?"


@dataclass(frozen=True)
class InputRule:
    """What a number cell accepts, for the browser's check before the server's: the indicator's
    bounds and whole-number rule (docs/design.md §4). The cells are text inputs, because Arabic
    keyboards type Arabic-Indic digits that a number input refuses, so the bounds travel as
    data attributes that static/js/result-grid.js reads, and the whole-number rule and the sign
    as the pattern; the server still checks everything."""

    minimum: Decimal | None
    maximum: Decimal | None
    whole: bool

    @property
    def pattern(self) -> str:
        sign = "-?" if self.minimum is None or self.minimum < 0 else ""
        return f"{sign}{DIGITS}{'' if self.whole else FRACTION}"

    @property
    def inputmode(self) -> str:
        # The numeric keypad has no minus sign and no decimal separator.
        return "numeric" if self.whole and self.minimum is not None and self.minimum >= 0 else "decimal"

    @property
    def data_min(self) -> str:
        return _text(self.minimum)

    @property
    def data_max(self) -> str:
        return _text(self.maximum)

    @property
    def error(self) -> str:
        if self.whole:
            return str(_("Enter a whole number: this indicator counts whole units."))
        return str(_("Enter a number, for example 12 or 12.5."))

    @property
    def range_error(self) -> str:
        low, high = self.data_min, self.data_max
        if self.minimum is not None and self.maximum is not None:
            return str(_("Enter a value between %(low)s and %(high)s.") % {"low": low, "high": high})
        if self.minimum is not None:
            return str(_("Enter a value of at least %(low)s.") % {"low": low})
        if self.maximum is not None:
            return str(_("Enter a value of at most %(high)s.") % {"high": high})
        return ""


def input_rules(indicator: Indicator) -> dict[str, InputRule]:
    """The rule of each number cell of the indicator's grid. A percentage's bounds speak of the
    percentage, not of its parts, so its numerator and denominator are only whole or not and
    never negative."""
    if indicator.measure == Indicator.Measure.PERCENTAGE:
        part = InputRule(minimum=Decimal(0), maximum=None, whole=indicator.whole_numbers)
        return {"numerator": part, "denominator": part}
    low, high = indicator.value_bounds()
    return {"value": InputRule(minimum=low, maximum=high, whole=indicator.whole_numbers)}


def breakdown_warnings(
    total: Decimal | None,
    options: Iterable[tuple[str, str, Decimal | None]],
    *,
    part: str | None = None,
    shown: Callable[[Decimal], str] = _text,
) -> list[str]:
    """What looks wrong with a total and its disaggregation options, given as (category label,
    option label, number or None): an option larger than the total, and a category whose options
    are all given but do not add up to it. `part` names the number (a percentage's numerator)."""
    if total is None:
        return []
    messages = []
    by_category: dict[str, list[Decimal | None]] = {}
    for category, option, number in options:
        by_category.setdefault(category, []).append(number)
        if number is not None and number > total:
            values = {"category": category, "option": option, "value": shown(number), "total": shown(total)}
            if part is None:
                message = _("%(category)s: %(option)s is %(value)s, more than the total %(total)s.") % values
            else:
                message = _("%(category)s: %(option)s is %(value)s, more than the total %(total)s (%(part)s).") % {
                    **values,
                    "part": part,
                }
            messages.append(str(message))
    for category, numbers in by_category.items():
        if any(n is None for n in numbers):
            continue
        added = sum(numbers, Decimal(0))
        if added != total:
            values = {"category": category, "sum": shown(added), "total": shown(total)}
            if part is None:
                message = _("The %(category)s values add up to %(sum)s, not the total %(total)s.") % values
            else:
                message = _("The %(category)s values add up to %(sum)s, not the total %(total)s (%(part)s).") % {
                    **values,
                    "part": part,
                }
            messages.append(str(message))
    return messages


class Grid:
    def __init__(
        self,
        *,
        indicator: Indicator,
        municipality: Organisation,
        period_start: datetime.date,
        period_end: datetime.date,
        options: list[DisaggregationOption],
    ):
        self.indicator = indicator
        self.municipality = municipality
        self.period_start = period_start
        self.period_end = period_end
        existing = {
            (r.disaggregation_category, r.disaggregation_option): r
            for r in Result.objects.filter(
                indicator=indicator, municipality=municipality, period_start=period_start, period_end=period_end
            )
        }
        self.rows = [GridRow("total", "", "", str(_("Total")))]
        for option in options:
            self.rows.append(
                GridRow(
                    f"{option.category.code}.{option.code}",
                    option.category.code,
                    option.code,
                    option.name,
                    category_label=option.category.name,
                )
            )
        for row in self.rows:
            result = existing.get((row.category, row.option))
            if result is not None:
                row.result = result
                row.value = _text(result.value) if not self.is_percentage else ""
                row.numerator = _text(result.numerator)
                row.denominator = _text(result.denominator)
                row.comment = result.comment
                row.evidence_url = result.evidence_url
                row.version = str(result.version)

    @property
    def is_percentage(self) -> bool:
        return self.indicator.measure == Indicator.Measure.PERCENTAGE

    @cached_property
    def input_rules(self) -> dict[str, InputRule]:
        return input_rules(self.indicator)

    @property
    def has_errors(self) -> bool:
        return any(row.errors for row in self.rows)

    @property
    def statuses(self) -> set[str]:
        return {row.result.status for row in self.rows if row.result is not None}

    @property
    def submittable(self) -> bool:
        return any(not row.locked for row in self.rows)

    @property
    def withdrawable(self) -> bool:
        return Result.Status.SUBMITTED in self.statuses

    def warnings(self) -> list[str]:
        """Disaggregations that do not add up to the total, or an option larger than it (a warning,
        not an error: a total may legitimately include people whose sex or age was not recorded)."""
        if self.indicator.measure == Indicator.Measure.SCORE:
            return []
        parts = ("numerator", "denominator") if self.is_percentage else ("value",)
        messages = []
        for part in parts:
            total, error = parse_decimal(getattr(self.rows[0], part))
            if error:
                continue
            options = []
            for row in self.rows[1:]:
                number, error = parse_decimal(getattr(row, part))
                options.append((row.category_label, row.label, None if error else number))
            messages.extend(breakdown_warnings(total, options, part=PART_LABELS[part]))
        return messages

    # Saving ----------------------------------------------------------------------------------

    def bind(self, data) -> None:
        for row in self.rows:
            if row.locked:
                continue
            for name in (*CELL_FIELDS, "version"):
                setattr(row, name, (data.get(f"{row.key}-{name}") or "").strip())

    def _parsed(self, row: GridRow) -> dict[str, Decimal | None] | None:
        numbers = {}
        ok = True
        for name in ("value", "numerator", "denominator"):
            number, error = parse_decimal(getattr(row, name))
            if error:
                row.add_error(name, error)
                ok = False
            numbers[name] = number
        if self.is_percentage:
            numbers["value"] = None
        return numbers if ok else None

    def _result_row(self, row: GridRow, numbers: dict[str, Decimal | None]) -> ResultRow:
        try:
            version = int(row.version) if row.version else None
        except ValueError:
            version = None
        return ResultRow(
            indicator_id=self.indicator.pk,
            municipality_id=self.municipality.pk,
            period_start=self.period_start,
            period_end=self.period_end,
            disaggregation=row.disaggregation,
            comment=row.comment,
            evidence_url=row.evidence_url,
            version=version,
            **numbers,
        )

    def save(self, *, user, submit: bool) -> bool:
        """Write the bound grid: all rows or none. Returns False (nothing written) on any error."""
        editable = [row for row in self.rows if not row.locked]
        parsed = {row.key: self._parsed(row) for row in editable}
        if self.has_errors:
            return False
        try:
            results_upsert(
                rows=[self._result_row(row, parsed[row.key]) for row in editable],
                user=user,
                status=Result.Status.SUBMITTED if submit else Result.Status.DRAFT,
                empty_rows_delete=True,
            )
        except BulkValidationError as error:
            for row_error in error.errors:
                editable[row_error.row].add_error(row_error.field, row_error.message)
            return False
        return True


PART_LABELS = {"value": _("value"), "numerator": _("numerator"), "denominator": _("denominator")}


def _posted_version(data, row: GridRow) -> int | None:
    try:
        return int(data.get(f"{row.key}-version") or "")
    except ValueError:
        return None


def grid_withdraw(grid: Grid, data, *, user) -> bool:
    """Take the grid's submitted results back to draft, all or none, each at the version the page
    showed. Returns False (nothing written) when one was changed or reviewed meanwhile."""
    rows = [row for row in grid.rows if row.result is not None and row.result.status == Result.Status.SUBMITTED]
    try:
        with transaction.atomic():
            for row in rows:
                row.result = result_withdraw(result=row.result, user=user, expected_version=_posted_version(data, row))
    except StaleVersion as error:
        rows[0].add_error("__all__", str(error))
        return False
    except ValidationError as error:
        rows[0].add_error("__all__", " ".join(error.messages))
        return False
    return True
