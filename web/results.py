"""The result entry grid: one indicator, one municipality, one period; the total and every
disaggregation option in rows. Reads and writes go through `indicators.services` (the same rules
as the API); a grid is saved all or nothing."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext_lazy as _

from common.validation import messages_by_field
from indicators.models import DisaggregationOption, Indicator, Result
from indicators.services import (
    BulkValidationError,
    ResultRow,
    StaleVersion,
    result_delete,
    result_submit,
    result_update,
    results_create,
)
from partners.models import Organisation

CELL_FIELDS = ("value", "numerator", "denominator", "comment", "evidence_url")
ROW_ERROR_FIELDS = {"indicator", "municipality", "period_start", "period_end", "disaggregation", "non_field_errors"}


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
        return self.result is not None and self.result.status == Result.Status.APPROVED

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

    @property
    def has_errors(self) -> bool:
        return any(row.errors for row in self.rows)

    @property
    def statuses(self) -> set[str]:
        return {row.result.status for row in self.rows if row.result is not None}

    @property
    def submittable(self) -> bool:
        return any(row.result is None or row.result.status != Result.Status.APPROVED for row in self.rows)

    def warnings(self) -> list[str]:
        """Disaggregations that do not add up to the total (a warning, not an error: a total may
        legitimately include people whose sex or age was not recorded)."""
        if self.indicator.measure == Indicator.Measure.SCORE:
            return []
        parts = ("numerator", "denominator") if self.is_percentage else ("value",)
        total_row = self.rows[0]
        messages = []
        for part in parts:
            total, error = parse_decimal(getattr(total_row, part))
            if total is None or error:
                continue
            by_category: dict[str, list[Decimal | None]] = {}
            labels: dict[str, str] = {}
            for row in self.rows[1:]:
                number, error = parse_decimal(getattr(row, part))
                by_category.setdefault(row.category, []).append(None if error else number)
                labels[row.category] = row.category_label
            for category, numbers in by_category.items():
                if any(n is None for n in numbers):
                    continue
                added = sum(numbers, Decimal(0))
                if added != total:
                    messages.append(
                        str(
                            _("The %(category)s values add up to %(sum)s, not the total %(total)s (%(part)s).")
                            % {
                                "category": labels[category],
                                "sum": _text(added),
                                "total": _text(total),
                                "part": PART_LABELS[part],
                            }
                        )
                    )
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
        return numbers if ok else None

    def save(self, *, user, submit: bool) -> bool:
        """Write the bound grid: all rows or none. Returns False (nothing written) on any error."""
        parsed = {row.key: self._parsed(row) for row in self.rows if not row.locked}
        if self.has_errors:
            return False
        try:
            with transaction.atomic():
                self._write(parsed, user)
                if self.has_errors:
                    raise _Rollback
                if submit:
                    for result in Result.objects.filter(
                        indicator=self.indicator,
                        municipality=self.municipality,
                        period_start=self.period_start,
                        period_end=self.period_end,
                        status__in=[Result.Status.DRAFT, Result.Status.RETURNED],
                    ):
                        result_submit(result=result, user=user)
        except _Rollback:
            return False
        return True

    def _write(self, parsed: dict[str, dict | None], user) -> None:
        creates: list[tuple[GridRow, ResultRow]] = []
        for row in self.rows:
            if row.locked:
                continue
            numbers = parsed[row.key]
            if self.is_percentage:
                numbers["value"] = None
            blank = all(v is None for v in numbers.values())
            if row.result is None:
                if blank and not row.comment and not row.evidence_url:
                    continue
                creates.append(
                    (
                        row,
                        ResultRow(
                            indicator_id=self.indicator.pk,
                            municipality_id=self.municipality.pk,
                            period_start=self.period_start,
                            period_end=self.period_end,
                            disaggregation=row.disaggregation,
                            comment=row.comment,
                            evidence_url=row.evidence_url,
                            **numbers,
                        ),
                    )
                )
                continue
            try:
                expected = int(row.version) if row.version else None
            except ValueError:
                expected = None
            try:
                if blank:
                    if expected is not None and expected != row.result.version:
                        raise StaleVersion(row.result.version)
                    result_delete(result=row.result, user=user)
                    continue
                changes = {name: value for name, value in numbers.items() if value != getattr(row.result, name)}
                if self.is_percentage:
                    changes.pop("value", None)
                if row.comment != row.result.comment:
                    changes["comment"] = row.comment
                if row.evidence_url != row.result.evidence_url:
                    changes["evidence_url"] = row.evidence_url
                if changes:
                    result_update(result=row.result, user=user, expected_version=expected, **changes)
            except StaleVersion as error:
                row.add_error("__all__", str(error))
            except ValidationError as error:
                for name, messages in messages_by_field(error).items():
                    for message in messages:
                        row.add_error(name, message)
        if creates:
            try:
                results_create(rows=[r for _row, r in creates], user=user, status=Result.Status.DRAFT)
            except BulkValidationError as error:
                for row_error in error.errors:
                    creates[row_error.row][0].add_error(row_error.field, row_error.message)


PART_LABELS = {"value": _("value"), "numerator": _("numerator"), "denominator": _("denominator")}


class _Rollback(Exception):
    pass
