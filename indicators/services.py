"""Every write about indicators, targets, results, national targets, funder goals and alignments.

The API, the pages, the admin, spreadsheet imports and the demo seed all call these functions,
so each rule lives here once. Writes that can move a number schedule a rollup recompute; the
recompute itself runs after commit (see `rollup_queue`).
"""

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator, MaxLengthValidator, URLValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from common.dates import in_date_range
from common.errors import ServiceError
from common.models import date_range_message
from common.services import apply_changes, refuse_moves, validated_save
from common.sql import quoted_names
from common.text import text_error
from indicators.signals import (
    alignment_inputs_changed,
    indicators_changed,
    result_cells_changed,
    result_status_changed,
)
from partners.models import Organisation
from projects.access import access_for
from projects.models import Programme
from projects.selectors import participating_municipality_ids

from . import periods
from .models import (
    VALUE_DIGITS,
    Alignment,
    DisaggregationCategory,
    DisaggregationOption,
    FunderGoal,
    Indicator,
    NationalTarget,
    Result,
    StandardIndicator,
    Target,
)
from .sdg import unknown_sdg_targets

MAX_BULK_RESULTS = 10_000
EVIDENCE_URL_VALIDATOR = URLValidator(schemes=["http", "https"])
EVIDENCE_URL_LENGTH_VALIDATOR = MaxLengthValidator(Result._meta.get_field("evidence_url").max_length)
VALUE_DIGITS_VALIDATOR = DecimalValidator(VALUE_DIGITS["max_digits"], VALUE_DIGITS["decimal_places"])
VALUE_QUANTUM = Decimal(1).scaleb(-VALUE_DIGITS["decimal_places"])
SDG_TARGET_PATTERN = re.compile(r"^(1[0-7]|[1-9])\.([1-9][0-9]?|[a-z])$")

INDICATOR_FIELDS = (
    "workstream",
    "code",
    "name_en",
    "name_ar",
    "definition_en",
    "definition_ar",
    "level",
    "unit_en",
    "unit_ar",
    "measure",
    "time_aggregation",
    "direction",
    "frequency",
    "baseline_value",
    "baseline_date",
    "lop_target",
    "value_min",
    "value_max",
    "whole_numbers",
    "data_source_en",
    "data_source_ar",
    "collection_method_en",
    "collection_method_ar",
    "responsible_en",
    "responsible_ar",
    "known_limitations_en",
    "known_limitations_ar",
)
# Changing any of these changes how results roll up.
ROLLUP_FIELDS = {"measure", "time_aggregation", "direction", "lop_target"}
NATIONAL_TARGET_FIELDS = ("code", "title_en", "title_ar", "description_en", "description_ar", "owner", "deadline")
FUNDER_GOAL_FIELDS = ("code", "title_en", "title_ar", "description_en", "description_ar", "parent")
RESULT_VALUE_FIELDS = ("value", "numerator", "denominator", "comment", "evidence_url")


STALE_MESSAGE = _("This result was changed by someone else (now version %(version)s). Reload it and try again.")
LOCKED_MESSAGE = _("This result is approved and locked. An approver must reopen it before it can change.")
SUBMITTED_MESSAGE = _(
    "This result is submitted for approval and cannot change while it waits: withdraw it first "
    "(it becomes a draft again)."
)
EXISTS_MESSAGE = _("A result for this indicator, period, municipality and disaggregation already exists.")


class StaleVersion(ServiceError):
    """The caller edited an older version of the result than the one stored."""

    http_status = 412

    def __init__(self, current_version: int):
        self.current_version = current_version
        super().__init__(STALE_MESSAGE % {"version": current_version})

    def as_data(self) -> dict[str, Any]:
        return {"detail": str(self), "version": self.current_version}


class ResultLocked(ValidationError, ServiceError):
    """An approved result cannot change until an approver reopens it."""

    http_status = 409

    def as_data(self) -> dict[str, Any]:
        return {"detail": " ".join(str(message) for message in self.messages)}


class ResultRefused(ValidationError, ServiceError):
    """The user may not do this to the result (docs/design.md §6, §7): 403 in the API, a message
    on the pages and in the admin."""

    http_status = 403

    def as_data(self) -> dict[str, Any]:
        return {"detail": " ".join(str(message) for message in self.messages)}


class RowProblem(StrEnum):
    """What kind of refusal a row error is, for callers that explain it in their own words (a
    spreadsheet says to download a fresh copy); REST clients see only row, field and message."""

    INVALID = "invalid"
    CONFLICT = "conflict"  # the stored result is not the one the row was edited from
    LOCKED = "locked"  # approved: it cannot change until reopened


@dataclass
class RowError:
    row: int
    field: str
    message: str
    problem: RowProblem = RowProblem.INVALID

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": str(self.message)}


class BulkValidationError(ServiceError):
    """Some rows of a bulk write are invalid; nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} invalid rows")

    def as_data(self) -> list[dict[str, Any]]:
        return [row.as_dict() for row in self.errors]


class BulkTooLarge(BulkValidationError):
    """More rows than one bulk write takes; nothing was checked or written."""

    http_status = 413


# Periods ------------------------------------------------------------------------------------

MONTH_NAMES = {
    1: _("January"),
    2: _("February"),
    3: _("March"),
    4: _("April"),
    5: _("May"),
    6: _("June"),
    7: _("July"),
    8: _("August"),
    9: _("September"),
    10: _("October"),
    11: _("November"),
    12: _("December"),
}


def period_error(
    *, frequency: str, fiscal_year_start_month: int, period_start: datetime.date, period_end: datetime.date
) -> str | None:
    """A message saying why start..end is not one period of the indicator, or None when it is."""
    if not (in_date_range(period_start) and in_date_range(period_end)):
        return date_range_message()
    if periods.is_period(period_start, period_end, frequency, fiscal_year_start_month):
        return None
    nearby = periods.nearest_periods(period_start, period_end, frequency, fiscal_year_start_month)
    return _(
        "%(start)s – %(end)s is not a %(frequency)s period of this programme (its fiscal year starts in "
        "%(month)s). Valid periods nearby: %(valid)s."
    ) % {
        "start": period_start.isoformat(),
        "end": period_end.isoformat(),
        "frequency": Indicator.Frequency(frequency).label.lower(),
        "month": MONTH_NAMES[fiscal_year_start_month],
        "valid": ", ".join(f"{start.isoformat()} – {end.isoformat()}" for start, end in nearby),
    }


# Results: one validator and one write path for the grid, spreadsheets and the API -----------


@dataclass
class ResultRow:
    """A result as entered, before validation; ids rather than objects so that 10,000 rows
    validate in a handful of queries.

    `version` is the version of the stored result the row was edited from (None: the row was
    entered where no result was stored). `status`, when given, is the status this row asks for
    (a bulk API row may name one); otherwise the call's status applies."""

    indicator_id: int | None
    municipality_id: int | None
    period_start: datetime.date | None
    period_end: datetime.date | None
    disaggregation: Mapping[str, str] = field(default_factory=dict)
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    comment: str = ""
    evidence_url: str = ""
    version: int | None = None
    status: str | None = None

    @property
    def has_numbers(self) -> bool:
        return not (self.value is None and self.numerator is None and self.denominator is None)


class ResultValidator:
    """Checks result rows against the rules the database cannot hold: the period matches the
    indicator's frequency and fiscal year; the municipality takes part in the programme; the
    disaggregation is one of the indicator's; the measure decides which values are needed; each
    number fits the column that stores it and lies in the indicator's plausible range; a comment
    and an evidence link hold no control characters. Bulk writes skip `full_clean`, so what it
    would catch for a result is checked here.

    Everything it needs is loaded once for all rows (a fixed number of queries)."""

    def __init__(self, indicator_ids: Iterable[int], municipality_ids: Iterable[int] = ()):
        indicator_ids = {i for i in indicator_ids if i is not None}
        self.indicators = {
            indicator.pk: indicator
            for indicator in Indicator.objects.filter(pk__in=indicator_ids)
            .select_related("programme")
            .prefetch_related("disaggregations")
        }
        self.participants = participating_municipality_ids({i.programme_id for i in self.indicators.values()})
        self.municipalities = dict(
            Organisation.objects.filter(pk__in={m for m in municipality_ids if m is not None}).values_list("pk", "kind")
        )
        self.options: dict[str, set[str]] = {}
        for category_code, option_code in DisaggregationOption.objects.values_list("category__code", "code"):
            self.options.setdefault(category_code, set()).add(option_code)

    def check(self, row: ResultRow) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
        """Return (clean field values, []) or (None, [(field, message), ...])."""
        errors: list[tuple[str, str]] = []
        indicator = self.indicators.get(row.indicator_id)
        if indicator is None:
            return None, [("indicator", str(_("Unknown indicator.")))]
        if row.municipality_id is None:
            errors.append(("municipality", str(_("Choose a municipality."))))
        elif self.municipalities.get(row.municipality_id) != Organisation.Kind.MUNICIPALITY:
            errors.append(("municipality", str(_("Unknown municipality."))))
        elif row.municipality_id not in self.participants.get(indicator.programme_id, set()):
            errors.append(
                ("municipality", str(_("This municipality does not take part in the indicator's programme.")))
            )
        errors.extend(self._check_period(indicator, row))
        category, option, disaggregation_errors = self._check_disaggregation(indicator, row.disaggregation)
        errors.extend(disaggregation_errors)
        value, value_errors = self._check_values(indicator, row)
        errors.extend(value_errors)
        # What `CheckedInputModel.full_clean` refuses in text, which bulk writes do not call.
        for name in ("comment", "evidence_url"):
            message = text_error(getattr(row, name) or "")
            if message:
                errors.append((name, str(message)))
        if row.evidence_url and not any(name == "evidence_url" for name, _message in errors):
            try:
                EVIDENCE_URL_LENGTH_VALIDATOR(row.evidence_url)
                EVIDENCE_URL_VALIDATOR(row.evidence_url)
            except ValidationError as error:
                message = error.messages[0] if error.code == "max_length" else None
                errors.append(
                    ("evidence_url", message or str(_("Enter a valid link, starting with https:// or http://.")))
                )
        if errors:
            return None, errors
        return {
            "indicator_id": indicator.pk,
            "municipality_id": row.municipality_id,
            "period_start": row.period_start,
            "period_end": row.period_end,
            "disaggregation_category": category,
            "disaggregation_option": option,
            "value": value,
            "numerator": row.numerator if indicator.measure == Indicator.Measure.PERCENTAGE else None,
            "denominator": row.denominator if indicator.measure == Indicator.Measure.PERCENTAGE else None,
            "comment": row.comment or "",
            "evidence_url": row.evidence_url or "",
        }, []

    @staticmethod
    def _check_period(indicator: Indicator, row: ResultRow) -> list[tuple[str, str]]:
        if row.period_start is None:
            return [("period_start", str(_("Enter the first day of the period.")))]
        if row.period_end is None:
            return [("period_end", str(_("Enter the last day of the period.")))]
        if row.period_end <= row.period_start:
            return [("period_end", str(_("The period end must be after the period start.")))]
        message = period_error(
            frequency=indicator.frequency,
            fiscal_year_start_month=indicator.programme.fiscal_year_start_month,
            period_start=row.period_start,
            period_end=row.period_end,
        )
        return [("period_start", str(message))] if message else []

    def _check_disaggregation(
        self, indicator: Indicator, disaggregation: Mapping[str, str] | None
    ) -> tuple[str, str, list[tuple[str, str]]]:
        if not disaggregation:
            return "", "", []
        if not isinstance(disaggregation, Mapping) or len(disaggregation) != 1:
            return (
                "",
                "",
                [("disaggregation", str(_("Give at most one pair {category: option}, or {} for the total.")))],
            )
        ((category, option),) = disaggregation.items()
        allowed = sorted(c.code for c in indicator.disaggregations.all())
        if category not in allowed:
            return (
                "",
                "",
                [
                    (
                        "disaggregation",
                        str(
                            _("This indicator is not disaggregated by “%(category)s”; it has: %(allowed)s.")
                            % {"category": category, "allowed": ", ".join(allowed) or _("none")}
                        ),
                    )
                ],
            )
        options = sorted(self.options.get(category, ()))
        if option not in options:
            return (
                "",
                "",
                [
                    (
                        "disaggregation",
                        str(
                            _("“%(option)s” is not an option of %(category)s; choose one of: %(options)s.")
                            % {"option": option, "category": category, "options": ", ".join(options)}
                        ),
                    )
                ],
            )
        return category, option, []

    @staticmethod
    def _check_digits(row: ResultRow, names: Iterable[str]) -> list[tuple[str, str]]:
        """A number the column cannot hold exactly is refused here, not rounded by the database
        (docs/design.md §4, what a result may hold)."""
        errors = []
        for name in names:
            number = getattr(row, name)
            if number is None:
                continue
            try:
                VALUE_DIGITS_VALIDATOR(number)
            except ValidationError as error:
                errors.append((name, " ".join(str(message) for message in error.messages)))
        return errors

    @classmethod
    def _check_values(cls, indicator: Indicator, row: ResultRow) -> tuple[Decimal | None, list[tuple[str, str]]]:
        if indicator.measure == Indicator.Measure.PERCENTAGE:
            errors = cls._check_digits(row, ("numerator", "denominator"))
            if row.numerator is None:
                errors.append(("numerator", str(_("A percentage indicator needs a numerator."))))
            elif row.numerator < 0:
                errors.append(("numerator", str(_("The numerator cannot be negative."))))
            if row.denominator is None:
                errors.append(("denominator", str(_("A percentage indicator needs a denominator."))))
            elif row.denominator <= 0:
                errors.append(("denominator", str(_("The denominator must be greater than 0."))))
            if errors:
                return None, errors
            errors = [
                (name, message)
                for name in ("numerator", "denominator")
                if (message := whole_number_error(indicator, getattr(row, name)))
            ]
            value = (Decimal(100) * row.numerator / row.denominator).quantize(VALUE_QUANTUM, ROUND_HALF_UP)
            # The percentage is what the bounds speak of; the numerator is the part to correct.
            message = bounds_error(indicator, value, percentage=True)
            if message:
                errors.append(("numerator", message))
            return value, errors
        errors = cls._check_digits(row, ("value",))
        if row.value is None:
            errors.append(("value", str(_("Enter a value."))))
        elif not errors:
            message = bounds_error(indicator, row.value) or whole_number_error(indicator, row.value)
            if message:
                errors.append(("value", message))
        if row.numerator is not None or row.denominator is not None:
            field_name = "numerator" if row.numerator is not None else "denominator"
            errors.append(
                (field_name, str(_("Only percentage indicators take a numerator and a denominator; enter a value.")))
            )
        return row.value, errors


def _number_text(number: Decimal) -> str:
    return format(number.normalize(), "f")


def bounds_error(indicator: Indicator, value: Decimal, *, percentage: bool = False, upper: bool = True) -> str | None:
    """Why `value` is not plausible for the indicator, naming the allowed range, or None.
    Without `upper`, only the lower bound applies (a total over several results may exceed what
    one result may be)."""
    low, high = indicator.value_bounds()
    if not upper:
        high = None
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    if percentage:
        if low is not None and high is not None:
            message = _("These give %(value)s %%; the percentage must lie between %(low)s and %(high)s %%.")
        elif low is not None:
            message = _("These give %(value)s %%; the percentage must be at least %(low)s %%.")
        else:
            message = _("These give %(value)s %%; the percentage must be at most %(high)s %%.")
    elif low is not None and high is not None:
        message = _("Enter a value between %(low)s and %(high)s.")
    elif low is not None:
        message = _("Enter a value of at least %(low)s.")
    else:
        message = _("Enter a value of at most %(high)s.")
    return str(
        message
        % {
            "value": _number_text(value),
            "low": _number_text(low) if low is not None else "",
            "high": _number_text(high) if high is not None else "",
        }
    )


def whole_number_error(indicator: Indicator, number: Decimal | None) -> str | None:
    if indicator.whole_numbers and number is not None and number != number.to_integral_value():
        return str(_("Enter a whole number: this indicator counts whole units."))
    return None


def _raise_row_errors(errors: list[tuple[str, str]]) -> None:
    by_field: dict[str, list[str]] = {}
    for field_name, message in errors:
        by_field.setdefault(field_name, []).append(message)
    raise ValidationError(by_field)


CELL_COLUMNS = (
    "indicator_id",
    "period_start",
    "period_end",
    "municipality_id",
    "disaggregation_category",
    "disaggregation_option",
)


def _cell(clean: Mapping[str, Any]) -> tuple:
    """The key of a clean row's cell (one result per cell: a database constraint)."""
    return tuple(clean[name] for name in CELL_COLUMNS)


def _result_cell(result: Result) -> tuple:
    return tuple(getattr(result, name) for name in CELL_COLUMNS)


def _row_cell(row: ResultRow) -> tuple | None:
    """The cell a row names, before validation (None: its disaggregation names no one cell)."""
    disaggregation = row.disaggregation or {}
    if not isinstance(disaggregation, Mapping) or len(disaggregation) > 1:
        return None
    category, option = next(iter(disaggregation.items()), ("", ""))
    return (row.indicator_id, row.period_start, row.period_end, row.municipality_id, category, option)


def _stored_results(cells: set[tuple]) -> dict[tuple, Result]:
    """The stored results of these cells, locked until the transaction ends.

    One read finds which cells hold a result; one `SELECT … FOR UPDATE` in id order locks exactly
    those rows, so two batches that share results wait for each other instead of deadlocking."""
    cells = {cell for cell in cells if cell is not None}
    if not cells:
        return {}
    candidates = Result.objects.filter(
        indicator_id__in={cell[0] for cell in cells},
        period_start__in={cell[1] for cell in cells},
        municipality_id__in={cell[3] for cell in cells},
    ).values_list("pk", *CELL_COLUMNS)
    ids = [pk for pk, *cell in candidates if tuple(cell) in cells]
    if not ids:
        return {}
    locked = Result.objects.filter(pk__in=ids).order_by("pk").select_for_update()
    return {_result_cell(result): result for result in locked}


def _differing_fields(clean: Mapping[str, Any], stored: Result) -> list[str]:
    """The values a clean row would change on the stored result, in the order of the fields."""
    return [name for name in RESULT_VALUE_FIELDS if clean[name] != getattr(stored, name)]


def result_change_refusal(result: Result) -> ResultLocked | None:
    """Why the result's values may not change or the result be deleted now, or None: an approved
    result counts in the rollups and is locked until an approver reopens it; a submitted one is
    what the approver is reviewing, locked until it is withdrawn (docs/design.md §6)."""
    if result.status == Result.Status.APPROVED:
        return ResultLocked(LOCKED_MESSAGE)
    if result.status == Result.Status.SUBMITTED:
        return ResultLocked(SUBMITTED_MESSAGE)
    return None


def approved_creation_refusal(user: AbstractBaseUser | None) -> ResultRefused | None:
    """Why the user may not create results already approved, or None. Approved results skip
    review, so only superusers create them, importing data verified elsewhere (docs/design.md §6);
    a write without a user (the demo seed) is the system's own."""
    if user is None or user.is_superuser:
        return None
    return ResultRefused(
        _("Only superusers create results already approved (data verified elsewhere); submit them for approval.")
    )


def not_started_error(period_start: datetime.date, *, today: datetime.date | None = None) -> str | None:
    """Why a result of this period may not be submitted yet, or None: nothing can be reported for
    a period that has not started (docs/design.md §4). Today is the programme's, in TIME_ZONE."""
    if period_start <= (today or timezone.localdate()):
        return None
    return str(
        _("This period starts on %(date)s: save the result as a draft and submit it once the period has started.")
        % {"date": period_start.isoformat()}
    )


CREATABLE_STATUSES = (Result.Status.DRAFT, Result.Status.SUBMITTED, Result.Status.APPROVED)
SUBMITTABLE_STATUSES = (Result.Status.DRAFT, Result.Status.RETURNED)
NEW_STATUS_MESSAGE = _("New results are drafts, submitted or (for superusers) approved.")


def _status_stamps(status: str, user: AbstractBaseUser | None, now: datetime.datetime) -> dict[str, Any]:
    stamps: dict[str, Any] = {"status": status}
    if status in (Result.Status.SUBMITTED, Result.Status.APPROVED):
        stamps.update(submitted_by=user, submitted_at=now, first_submitted_at=now)
    if status == Result.Status.APPROVED:
        stamps.update(reviewed_by=user, reviewed_at=now)
    return stamps


class Written(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"


@dataclass
class RowOutcome:
    """What `results_upsert` did with one row."""

    written: Written
    result: Result | None  # as stored now; None when deleted, or when the row left an empty cell empty
    submitted: bool = False  # this write sent it for approval


@dataclass
class UpsertOutcome:
    rows: list[RowOutcome]

    def count(self, written: Written) -> int:
        return sum(1 for row in self.rows if row.written == written)

    @property
    def results(self) -> list[Result]:
        """The stored results of the rows, in the order of the rows."""
        return [row.result for row in self.rows if row.result is not None]

    @property
    def counts(self) -> dict[str, int]:
        counts = {written.value: self.count(written) for written in Written}
        counts["submitted"] = sum(1 for row in self.rows if row.submitted)
        return counts


UPDATED_RESULT_FIELDS = [
    *RESULT_VALUE_FIELDS,
    "updated_by",
    "status",
    "submitted_by",
    "submitted_at",
    "first_submitted_at",
    "version",
    "updated_at",
]
WRITE_BATCH_SIZE = 1000


def _row_statuses(rows: Sequence[ResultRow], status: str) -> tuple[str, list[RowError]]:
    """The one status every row of a call ends in (docs/design.md §6), and the rows that ask for
    another."""
    if status not in CREATABLE_STATUSES:
        raise ValidationError({"status": NEW_STATUS_MESSAGE})
    asked = [row.status or status for row in rows]
    batch_status = asked[0] if asked else status
    errors = []
    for index, row_status in enumerate(asked):
        if row_status not in CREATABLE_STATUSES:
            errors.append(RowError(index, "status", NEW_STATUS_MESSAGE))
        elif row_status != batch_status:
            errors.append(RowError(index, "status", _("All rows of one request must share one status.")))
    return batch_status, errors


@transaction.atomic
def results_upsert(
    *,
    rows: Sequence[ResultRow],
    user: AbstractBaseUser | None,
    status: str = Result.Status.DRAFT,
    empty_rows_delete: bool = False,
) -> UpsertOutcome:
    """Bring the results of the rows' cells to what the rows say, all or nothing: the result
    entry grid, the spreadsheet import and the bulk API all write through here.

    A new cell is created; a stored result the row changes is updated; a row equal to what is
    stored writes nothing (no history, no new version, no recompute). With `empty_rows_delete`
    (the grid), a row without numbers empties its cell. Any bad row raises BulkValidationError,
    one entry per problem (rows counted from 0), and nothing is written.

    `status` is where the rows end: `draft` leaves stored results in their status; `submitted`
    also submits the rows' drafts and returned results; `approved` creates results verified
    elsewhere and approves nothing stored. Every row of a call ends in the same status.

    A row that differs from the stored result and was edited from another version of it (or from
    none) is a conflict: someone changed or created it in between. An approved result is locked.

    Set-based: the rows are validated together, the stored results of their cells read and locked
    once, and inserts and updates written in bulk with their history, so the number of queries
    does not grow with the rows (deletes, which only the grid asks for, cost a few each)."""
    return _write_results(rows=rows, user=user, status=status, empty_rows_delete=empty_rows_delete)


@dataclass
class _Writes:
    """What a batch will write, decided row by row before anything is written."""

    user: AbstractBaseUser | None
    status: str
    now: datetime.datetime = field(default_factory=timezone.now)
    outcomes: list[RowOutcome | None] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    creates: list[tuple[int, Result]] = field(default_factory=list)
    updates: list[Result] = field(default_factory=list)
    deletes: list[Result] = field(default_factory=list)
    moved: list[tuple[Result, str]] = field(default_factory=list)  # (result, status before) for the workflow

    def refuse(self, index: int, field_name: str, message: Any, problem: RowProblem = RowProblem.INVALID) -> None:
        self.errors.append(RowError(index, field_name, message, problem))

    def empty(self, index: int, row: ResultRow, stored: Result | None) -> None:
        """A grid row without numbers: its cell is to be empty."""
        if stored is None:
            self.outcomes[index] = RowOutcome(Written.UNCHANGED, None)
        elif row.version != stored.version:
            self.refuse(index, "non_field_errors", STALE_MESSAGE % {"version": stored.version}, RowProblem.CONFLICT)
        elif (refusal := result_change_refusal(stored)) is not None:
            self.refuse(index, "non_field_errors", refusal.messages[0], RowProblem.LOCKED)
        else:
            self.deletes.append(stored)
            self.outcomes[index] = RowOutcome(Written.DELETED, None)

    def create(self, index: int, clean: dict[str, Any]) -> None:
        result = Result(**clean, created_by=self.user, **_status_stamps(self.status, self.user, self.now))
        self.creates.append((index, result))
        self.outcomes[index] = RowOutcome(Written.CREATED, result, submitted=self.status == Result.Status.SUBMITTED)
        if self.status != Result.Status.DRAFT:
            self.moved.append((result, ""))

    def change(self, index: int, row: ResultRow, clean: dict[str, Any], stored: Result) -> None:
        """A valid row whose cell holds a result."""
        differing = _differing_fields(clean, stored)
        if differing and row.version is None:
            self.refuse(index, "non_field_errors", EXISTS_MESSAGE, RowProblem.CONFLICT)
        elif differing and row.version != stored.version:
            self.refuse(index, differing[0], STALE_MESSAGE % {"version": stored.version}, RowProblem.CONFLICT)
        elif differing and (refusal := result_change_refusal(stored)) is not None:
            self.refuse(index, differing[0], refusal.messages[0], RowProblem.LOCKED)
        elif self.status == Result.Status.APPROVED and stored.status != Result.Status.APPROVED:
            message = _("This result already exists; only new results are created approved. Approve it in review.")
            self.refuse(index, "status", message)
        else:
            submitting = self.status == Result.Status.SUBMITTED and stored.status in SUBMITTABLE_STATUSES
            if not differing and not submitting:
                self.outcomes[index] = RowOutcome(Written.UNCHANGED, stored)
                return
            for name in differing:
                setattr(stored, name, clean[name])
            if differing:
                stored.updated_by = self.user
            if submitting:
                self.moved.append((stored, stored.status))
                stored.status, stored.submitted_by, stored.submitted_at = Result.Status.SUBMITTED, self.user, self.now
                stored.first_submitted_at = stored.first_submitted_at or self.now
            stored.version += 1
            stored.updated_at = self.now
            stored._history_user = self.user
            self.updates.append(stored)
            self.outcomes[index] = RowOutcome(Written.UPDATED, stored, submitted=submitting)

    def write(self) -> None:
        for result in self.deletes:
            result._history_user = self.user
            result.delete()
        if self.updates:
            bulk_update_with_history(
                self.updates,
                Result,
                UPDATED_RESULT_FIELDS,
                batch_size=WRITE_BATCH_SIZE,
                default_user=self.user,
                default_date=self.now,
            )
        if self.creates:
            try:
                with transaction.atomic():
                    bulk_create_with_history(
                        [result for _index, result in self.creates],
                        Result,
                        batch_size=WRITE_BATCH_SIZE,
                        default_user=self.user,
                        default_date=self.now,
                    )
            except IntegrityError as error:  # a concurrent writer took one of the cells after our read
                message = _("Another user saved some of these results at the same time; try again.")
                raise BulkValidationError([RowError(self.creates[0][0], "non_field_errors", message)]) from error
        if self.status == Result.Status.APPROVED and self.creates:  # drafts and submissions move no number
            result_cells_changed.send(sender=Result, cells=[_counted_cell(result) for _index, result in self.creates])
        if self.moved:
            result_status_changed.send(sender=Result, moves=self.moved, user=self.user, comment="")


def _write_results(
    *,
    rows: Sequence[ResultRow],
    user: AbstractBaseUser | None,
    status: str,
    empty_rows_delete: bool = False,
    create_only: bool = False,
    submitted_at: datetime.datetime | None = None,
) -> UpsertOutcome:
    """`results_upsert`, or with `create_only` `results_create`: every cell must be new."""
    if len(rows) > MAX_BULK_RESULTS:
        raise BulkTooLarge(
            [
                RowError(
                    MAX_BULK_RESULTS,
                    "non_field_errors",
                    _("At most %(limit)s results can be sent at once.") % {"limit": MAX_BULK_RESULTS},
                )
            ]
        )
    batch_status, status_errors = _row_statuses(rows, status)
    if batch_status == Result.Status.APPROVED and (refusal := approved_creation_refusal(user)) is not None:
        raise refusal
    writes = _Writes(user=user, status=batch_status, outcomes=[None] * len(rows), errors=status_errors)
    if submitted_at is not None:
        _check_submitted_at(submitted_at, batch_status)
        writes.now = submitted_at
    validator = ResultValidator({r.indicator_id for r in rows}, {r.municipality_id for r in rows})
    stored_by_cell = _stored_results({_row_cell(row) for row in rows})
    seen: dict[tuple, int] = {}
    for index, row in enumerate(rows):
        stored = stored_by_cell.get(_row_cell(row))
        if empty_rows_delete and not row.has_numbers and (stored is not None or not (row.comment or row.evidence_url)):
            writes.empty(index, row, stored)
            continue
        clean, row_errors = validator.check(row)
        for field_name, message in row_errors:
            writes.refuse(index, field_name, message)
        if clean is None:
            continue
        if batch_status != Result.Status.DRAFT and (
            message := not_started_error(clean["period_start"], today=timezone.localdate(writes.now))
        ):
            writes.refuse(index, "period_start", message)
            continue
        cell = _cell(clean)
        if cell in seen:
            message = _("Row %(other)s already gives this result.") % {"other": seen[cell]}
            writes.refuse(index, "non_field_errors", message)
        elif stored is None:
            writes.create(index, clean)
        elif create_only:
            writes.refuse(index, "non_field_errors", EXISTS_MESSAGE, RowProblem.CONFLICT)
        else:
            writes.change(index, row, clean, stored)
        seen.setdefault(cell, index)
    if writes.errors:
        raise BulkValidationError(sorted(writes.errors, key=lambda e: e.row))
    writes.write()
    return UpsertOutcome(rows=list(writes.outcomes))


def _check_submitted_at(submitted_at: datetime.datetime, status: str) -> None:
    if status == Result.Status.DRAFT:
        raise ValidationError({"submitted_at": _("A draft has not been submitted: give no submission time.")})
    if timezone.is_naive(submitted_at) or submitted_at > timezone.now():
        raise ValidationError({"submitted_at": _("Give a submission time in the past, with its time zone.")})


@transaction.atomic
def results_create(
    *,
    rows: Sequence[ResultRow],
    user: AbstractBaseUser | None,
    status: str = Result.Status.DRAFT,
    submitted_at: datetime.datetime | None = None,
) -> list[Result]:
    """Create many results at once, all or none: every row's cell must be new. Invalid rows raise
    BulkValidationError with one entry per problem (row numbers count from 0, in the order given).

    `submitted_at` is for the demo seed only (`seed_demo`): results that stand for months of
    reporting are written in one run, and the reporting-cycle numbers (completeness: on time or
    late, docs/reporting-cycle.md) read when each was first sent. It stamps the submission (and,
    for results created approved, the review) and their history with that past time instead of
    now; a period must have started by then. No page or API passes it: their submissions happen
    when they are made. There is no clock to set instead: the services read `timezone.now()`."""
    return _write_results(rows=rows, user=user, status=status, create_only=True, submitted_at=submitted_at).results


def _counted_cell(result: Result) -> tuple[int, int, str, str]:
    """The rollup input a result feeds: a change to it recomputes only the groups it belongs to."""
    return (result.indicator_id, result.municipality_id, result.disaggregation_category, result.disaggregation_option)


@transaction.atomic
def result_create(
    *,
    indicator: Indicator,
    municipality: Organisation,
    period_start: datetime.date,
    period_end: datetime.date,
    disaggregation: Mapping[str, str] | None = None,
    value: Decimal | None = None,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    comment: str = "",
    evidence_url: str = "",
    user: AbstractBaseUser | None = None,
    status: str = Result.Status.DRAFT,
) -> Result:
    row = ResultRow(
        indicator_id=indicator.pk,
        municipality_id=municipality.pk if municipality else None,
        period_start=period_start,
        period_end=period_end,
        disaggregation=disaggregation or {},
        value=value,
        numerator=numerator,
        denominator=denominator,
        comment=comment,
        evidence_url=evidence_url,
    )
    return result_create_from_row(row=row, user=user, status=status)


@transaction.atomic
def result_create_from_row(
    *, row: ResultRow, user: AbstractBaseUser | None = None, status: str = Result.Status.DRAFT
) -> Result:
    """One result from a row of ids (as the API receives it); errors come back by field."""
    try:
        (result,) = results_create(rows=[row], user=user, status=status)
    except BulkValidationError as error:
        _raise_row_errors([(e.field, str(e.message)) for e in error.errors])
    return Result.objects.get(pk=result.pk)


def _check_version(result: Result, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != result.version:
        raise StaleVersion(result.version)


def _lock(result: Result) -> Result:
    """Re-read the result under a row lock, so two writers are serialised on it."""
    return Result.objects.select_for_update().select_related("indicator__programme").get(pk=result.pk)


def _refuse_cell_and_status_changes(result: Result, changes: dict[str, Any]) -> None:
    """What a result is about never changes (so it never moves to another indicator, programme or
    municipality), and its status moves only through the transitions. Sent again unchanged, as a
    client sending the whole result back does, these fields are accepted and dropped."""
    stored = {
        "indicator": result.indicator_id,
        "municipality": result.municipality_id,
        "period_start": result.period_start,
        "period_end": result.period_end,
        "disaggregation": result.disaggregation,
        "status": result.status,
    }
    errors: dict[str, Any] = {}
    for name, current in stored.items():
        if name not in changes:
            continue
        new = changes.pop(name)
        new = new.pk if hasattr(new, "pk") else (new or {}) if name == "disaggregation" else new
        if new != current:
            errors[name] = (
                _("The status changes only by submitting, approving, returning or reopening the result.")
                if name == "status"
                else _("This field cannot change on an existing result; delete it and create another.")
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def result_update(
    *, result: Result, user: AbstractBaseUser | None, expected_version: int | None = None, **changes
) -> Result:
    """Change a result's values. What it is about and its status are fixed here; approved results
    are locked until reopened; values equal to what is stored write nothing."""
    result = _lock(result)
    _refuse_cell_and_status_changes(result, changes)
    _check_version(result, expected_version)
    refusal = result_change_refusal(result)
    if refusal is not None:
        raise refusal
    unknown = set(changes) - set(RESULT_VALUE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed on an existing result.") for name in unknown})
    row = ResultRow(
        indicator_id=result.indicator_id,
        municipality_id=result.municipality_id,
        period_start=result.period_start,
        period_end=result.period_end,
        disaggregation=result.disaggregation,
        value=changes.get("value", result.value),
        numerator=changes.get("numerator", result.numerator),
        denominator=changes.get("denominator", result.denominator),
        comment=changes.get("comment", result.comment),
        evidence_url=changes.get("evidence_url", result.evidence_url),
    )
    clean, errors = ResultValidator([result.indicator_id], [result.municipality_id]).check(row)
    if errors:
        _raise_row_errors(errors)
    differing = _differing_fields(clean, result)
    if not differing:
        return result
    for name in differing:
        setattr(result, name, clean[name])
    result.updated_by = user
    result.version += 1
    result._history_user = user
    validated_save(result)
    return result


def result_review_refusal(result: Result, user: AbstractBaseUser | None) -> ResultRefused | None:
    """Why the user may not approve or return the result, or None: no one reviews what they
    entered, last changed or submitted themselves (docs/design.md §7); superusers may."""
    if user is None or user.is_superuser:
        return None
    if user.pk in {result.created_by_id, result.updated_by_id, result.submitted_by_id}:
        return ResultRefused(
            _(
                "You entered, changed or submitted this result, so another approver must approve or "
                "return it: no one reviews their own work."
            )
        )
    return None


TRANSITIONS = {
    "submit": (set(SUBMITTABLE_STATUSES), Result.Status.SUBMITTED),
    "withdraw": ({Result.Status.SUBMITTED}, Result.Status.DRAFT),
    "approve": ({Result.Status.SUBMITTED}, Result.Status.APPROVED),
    "return": ({Result.Status.SUBMITTED}, Result.Status.RETURNED),
    "reopen": ({Result.Status.APPROVED}, Result.Status.DRAFT),
}


def _transition(
    result: Result, action: str, user: AbstractBaseUser | None, expected_version: int | None, comment: str = ""
) -> Result:
    result = _lock(result)
    _check_version(result, expected_version)
    allowed_from, to_status = TRANSITIONS[action]
    if result.status not in allowed_from:
        raise ValidationError(
            {
                "status": _("A %(status)s result cannot be %(action)s.")
                % {"status": result.get_status_display().lower(), "action": ACTION_PAST[action]}
            }
        )
    if action == "submit" and (message := not_started_error(result.period_start)):
        raise ValidationError({"period_start": message})
    if action in ("approve", "return") and (refusal := result_review_refusal(result, user)) is not None:
        raise refusal
    was_counted = result.status == Result.Status.APPROVED
    previous_status = result.status
    now = timezone.now()
    result.status = to_status
    if action == "submit":
        result.submitted_by, result.submitted_at = user, now
        result.first_submitted_at = result.first_submitted_at or now
    elif action in ("approve", "return", "reopen"):
        result.reviewed_by, result.reviewed_at = user, now
    if comment:
        result.comment = comment
    result.version += 1
    result._history_user = user
    result.save()
    if was_counted or to_status == Result.Status.APPROVED:
        result_cells_changed.send(sender=Result, cells=[_counted_cell(result)])
    result_status_changed.send(sender=Result, moves=[(result, previous_status)], user=user, comment=comment)
    return result


ACTION_PAST = {
    "submit": _("submitted"),
    "withdraw": _("withdrawn"),
    "approve": _("approved"),
    "return": _("returned"),
    "reopen": _("reopened"),
}


@transaction.atomic
def result_submit(*, result: Result, user: AbstractBaseUser | None, expected_version: int | None = None) -> Result:
    return _transition(result, "submit", user, expected_version)


@transaction.atomic
def result_withdraw(*, result: Result, user: AbstractBaseUser | None, expected_version: int | None = None) -> Result:
    """Take a submitted result back to draft, so that it can be changed and submitted again."""
    return _transition(result, "withdraw", user, expected_version)


@transaction.atomic
def result_approve(*, result: Result, user: AbstractBaseUser | None, expected_version: int | None = None) -> Result:
    return _transition(result, "approve", user, expected_version)


@transaction.atomic
def result_return(
    *, result: Result, user: AbstractBaseUser | None, comment: str, expected_version: int | None = None
) -> Result:
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say what needs to change when returning a result.")})
    return _transition(result, "return", user, expected_version, comment=comment.strip())


@transaction.atomic
def result_reopen(*, result: Result, user: AbstractBaseUser | None, expected_version: int | None = None) -> Result:
    return _transition(result, "reopen", user, expected_version)


@transaction.atomic
def result_delete(*, result: Result, user: AbstractBaseUser | None) -> None:
    result = _lock(result)
    refusal = result_change_refusal(result)
    if refusal is not None:
        raise refusal
    result._history_user = user
    result.delete()


# Targets ------------------------------------------------------------------------------------

MAX_BULK_TARGETS = 10_000
TARGET_CHANGED_MESSAGE = _("Someone else changed this target to %(value)s after you opened the page; reload to see it.")
TARGET_DELETED_MESSAGE = _("Someone else deleted this target after you opened the page; reload to see it.")


class _NotLoaded(Enum):
    NOT_LOADED = "not loaded"


# A cell that says nothing of the value it was edited from: it is written as sent, unchecked.
NOT_LOADED = _NotLoaded.NOT_LOADED


@dataclass
class TargetConflict(RowError):
    """A cell its editor changed, edited from another value than the one stored now. `current` is
    the stored value (None: deleted), for callers that say it in their own words (a sheet)."""

    problem: RowProblem = RowProblem.CONFLICT
    current: Decimal | None = None


def _number_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class TargetCell:
    """One cell of a target grid or sheet, as typed. Municipality None is the programme-wide
    target; no period is the life-of-programme target (`Indicator.lop_target`, programme-wide);
    value None empties the cell.

    `loaded` is the value the cell showed when the page was opened or the sheet downloaded (None:
    it was empty), which `targets_upsert` compares with what is stored now, so that two editors of
    one grid do not silently overwrite each other; NOT_LOADED (the default, for callers that do not
    know it) asks for no such check."""

    municipality_id: int | None
    period_start: datetime.date | None
    period_end: datetime.date | None
    value: Decimal | None
    loaded: Decimal | _NotLoaded | None = NOT_LOADED

    @property
    def is_lop(self) -> bool:
        return self.period_start is None and self.period_end is None

    @property
    def key(self) -> tuple[int | None, datetime.date | None, datetime.date | None]:
        return (self.municipality_id, self.period_start, self.period_end)


class _TargetRules:
    """What a target of the indicator may be (docs/design.md §4), with what the checks need
    loaded once, so that one target and ten thousand cost the same few queries.

    The indicator's bounds speak of one result. A target on that scale keeps both bounds: a
    municipality's target of a flow or a level, and any percentage or score target (a mean stays
    within the range). A total over municipalities or periods (programme-wide and LoP numbers, and
    running totals) keeps only the lower bound. Whole numbers apply to numbers, which add up as
    whole numbers, and to a municipality's score; a mean or a percentage may have a fraction."""

    def __init__(self, indicator: Indicator, kinds: Mapping[int, str]):
        self.indicator = indicator
        self.kinds = kinds
        self.participants = participating_municipality_ids({indicator.programme_id})[indicator.programme_id]

    @classmethod
    def for_municipalities(cls, indicator: Indicator, municipality_ids: Iterable[int | None]) -> "_TargetRules":
        ids = {pk for pk in municipality_ids if pk is not None}
        kinds = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "kind")) if ids else {}
        return cls(indicator, kinds)

    def municipality_errors(self, municipality_id: int | None) -> list[tuple[str, str]]:
        if municipality_id is None:
            return []
        if self.kinds.get(municipality_id) != Organisation.Kind.MUNICIPALITY:
            return [("municipality", str(_("Choose a municipality, or leave it empty for a programme-wide target.")))]
        if municipality_id not in self.participants:
            return [("municipality", str(_("This municipality does not take part in the indicator's programme.")))]
        return []

    def period_errors(self, period_start: datetime.date, period_end: datetime.date) -> list[tuple[str, str]]:
        if period_end <= period_start:
            return [("period_end", str(_("The period end must be after the period start.")))]
        message = period_error(
            frequency=self.indicator.frequency,
            fiscal_year_start_month=self.indicator.programme.fiscal_year_start_month,
            period_start=period_start,
            period_end=period_end,
        )
        return [("period_start", str(message))] if message else []

    def value_errors(self, value: Decimal | int, *, per_result: bool, whole: bool) -> list[tuple[str, str]]:
        value = value if isinstance(value, Decimal) else Decimal(str(value))
        try:
            VALUE_DIGITS_VALIDATOR(value)
        except ValidationError as error:
            return [("value", " ".join(str(message) for message in error.messages))]
        message = bounds_error(self.indicator, value, upper=per_result)
        if message is None and value < 0:
            message = str(_("A target cannot be negative."))
        if message is None and whole:
            message = whole_number_error(self.indicator, value)
        return [("value", message)] if message else []

    def cell_errors(self, cell: TargetCell) -> list[tuple[str, str]]:
        """Why the cell cannot be stored (value None is allowed: it empties the cell)."""
        measure = self.indicator.measure
        if cell.is_lop:
            if cell.municipality_id is not None:
                return [("municipality", str(_("The life-of-programme target is programme-wide.")))]
            per_result, whole = measure != Indicator.Measure.NUMBER, measure == Indicator.Measure.NUMBER
        elif cell.period_start is None or cell.period_end is None:
            return [("period_start", str(_("Give both the first and the last day of the period.")))]
        else:
            errors = self.municipality_errors(cell.municipality_id) + self.period_errors(
                cell.period_start, cell.period_end
            )
            if errors:
                return errors
            one_municipality = cell.municipality_id is not None
            per_result = measure != Indicator.Measure.NUMBER or (
                one_municipality and self.indicator.time_aggregation != Indicator.TimeAggregation.CUMULATIVE
            )
            whole = measure == Indicator.Measure.NUMBER or (measure == Indicator.Measure.SCORE and one_municipality)
        if cell.value is None:
            return []
        return self.value_errors(cell.value, per_result=per_result, whole=whole)


def _targets_changed(indicator_id: int) -> None:
    indicators_changed.send(sender=Indicator, indicator_ids=[indicator_id])


@transaction.atomic
def target_set(
    *,
    indicator: Indicator,
    period_start: datetime.date,
    period_end: datetime.date,
    value: Decimal,
    municipality: Organisation | None = None,
) -> Target:
    """Create or replace the target of one period (municipality None: programme-wide), by the
    rules `targets_upsert` applies to a whole grid."""
    rules = _TargetRules(indicator, {municipality.pk: municipality.kind} if municipality is not None else {})
    if period_start is None or period_end is None:
        errors = [("period_start", str(_("Give both the first and the last day of the period.")))]
    else:
        cell = TargetCell(municipality.pk if municipality is not None else None, period_start, period_end, value)
        errors = rules.cell_errors(cell)
    if value is None:
        errors.append(("value", str(_("Enter a value."))))
    if errors:
        _raise_row_errors(errors)
    target = Target.objects.filter(
        indicator=indicator, municipality=municipality, period_start=period_start, period_end=period_end
    ).first() or Target(
        indicator=indicator, municipality=municipality, period_start=period_start, period_end=period_end
    )
    if target.pk is not None and target.value == value:
        return target
    target.value = value
    validated_save(target)
    _targets_changed(indicator.pk)
    return target


@transaction.atomic
def target_update(*, target: Target, **changes) -> Target:
    """Change a target; it may move to another indicator of its programme, never to another
    programme."""
    indicator = changes.get("indicator")
    if indicator is not None and indicator.programme_id != target.indicator.programme_id:
        raise ValidationError({"indicator": _("A target cannot move to another programme.")})
    fields = {
        "indicator": target.indicator,
        "municipality": target.municipality,
        "period_start": target.period_start,
        "period_end": target.period_end,
        "value": target.value,
    }
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    fields.update(changes)
    key_changed = any(
        fields[k] != getattr(target, k) for k in ("indicator", "municipality", "period_start", "period_end")
    )
    if key_changed:
        target_delete(target=target)
    return target_set(**fields)


@transaction.atomic
def target_delete(*, target: Target) -> None:
    indicator_id = target.indicator_id
    target.delete()
    _targets_changed(indicator_id)


@dataclass
class _TargetWrites:
    """What a batch of target cells will write, decided before anything is written."""

    indicator: Indicator
    user: AbstractBaseUser | None
    stored_lop: Decimal | None
    creates: list[Target] = field(default_factory=list)
    updates: list[Target] = field(default_factory=list)
    deletes: list[Target] = field(default_factory=list)
    lop_target: Decimal | None = None
    lop_written: Written | None = None
    unchanged: int = 0
    # Cells sent as the page showed them that someone else changed since: their value stays.
    kept: int = 0

    def take(self, cell: TargetCell, stored: Target | None) -> None:
        if cell.is_lop:
            before = self.stored_lop
            if cell.value == before:
                self.unchanged += 1
            else:
                self.lop_target = cell.value
                self.lop_written = (
                    Written.CREATED if before is None else Written.DELETED if cell.value is None else Written.UPDATED
                )
        elif cell.value is None:
            if stored is None:
                self.unchanged += 1
            else:
                self.deletes.append(stored)
        elif stored is None:
            self.creates.append(
                Target(
                    indicator=self.indicator,
                    municipality_id=cell.municipality_id,
                    period_start=cell.period_start,
                    period_end=cell.period_end,
                    value=cell.value,
                )
            )
        elif stored.value != cell.value:
            stored.value = cell.value
            self.updates.append(stored)
        else:
            self.unchanged += 1

    @property
    def lop_changed(self) -> bool:
        return self.lop_written is not None

    @property
    def counts(self) -> dict[str, int]:
        counts = {
            Written.CREATED.value: len(self.creates),
            Written.UPDATED.value: len(self.updates),
            Written.DELETED.value: len(self.deletes),
            Written.UNCHANGED.value: self.unchanged,
            "kept": self.kept,
        }
        if self.lop_written is not None:
            counts[self.lop_written.value] += 1
        return counts

    def write(self) -> None:
        now = timezone.now()
        if self.deletes:
            # A queryset delete would write each history row on its own (post_delete); the history
            # of the batch is written at once and the rows deleted in one statement (no other
            # table refers to a target).
            history = Target.history.model
            history.objects.bulk_create(
                [
                    history(
                        history_date=now,
                        history_user=self.user,
                        history_type="-",
                        **{f.attname: getattr(target, f.attname) for f in history.tracked_fields},
                    )
                    for target in self.deletes
                ],
                batch_size=WRITE_BATCH_SIZE,
            )
            names = quoted_names(Target)
            ids = [target.pk for target in self.deletes]
            with connection.cursor() as cursor:
                for first in range(0, len(ids), WRITE_BATCH_SIZE):
                    batch = ids[first : first + WRITE_BATCH_SIZE]
                    placeholders = ", ".join(["%s"] * len(batch))
                    cursor.execute(f"DELETE FROM {names.table} WHERE {names.id} IN ({placeholders})", batch)
        if self.updates:
            bulk_update_with_history(
                self.updates, Target, ["value"], batch_size=WRITE_BATCH_SIZE, default_user=self.user, default_date=now
            )
        if self.creates:
            try:
                with transaction.atomic():
                    bulk_create_with_history(
                        self.creates, Target, batch_size=WRITE_BATCH_SIZE, default_user=self.user, default_date=now
                    )
            except IntegrityError as error:  # a concurrent writer took one of the cells after our read
                message = _("Someone else saved targets of this indicator at the same time; try again.")
                raise BulkValidationError([RowError(0, "non_field_errors", message)]) from error
        if self.lop_changed:
            self.indicator.lop_target = self.lop_target
            self.indicator._history_user = self.user
            self.indicator.save(update_fields=["lop_target"])

    @property
    def changed(self) -> bool:
        return bool(self.creates or self.updates or self.deletes or self.lop_changed)


@transaction.atomic
def targets_upsert(
    *, indicator: Indicator, cells: Sequence[TargetCell], user: AbstractBaseUser | None
) -> dict[str, int]:
    """Bring the indicator's targets to what the cells say, all or nothing: the target grid and
    its offline sheet write through here. A cell with a value creates or changes its target, an
    empty cell deletes it, a cell as stored writes nothing; a cell without a period is the LoP
    target. Periods are the indicator's (its frequency, within the programme's dates).

    Compare-and-set per cell, for cells that carry the value they were `loaded` with: when what is
    stored now differs from it (someone else changed, created or deleted the target meanwhile), a
    cell its editor changed is refused as a conflict (TargetConflict, naming the stored value),
    and a cell its editor left as loaded keeps the stored value rather than bring back the stale
    one. A page sends every cell, so only the cells its editor touched can conflict.

    Any bad cell raises BulkValidationError, one entry per problem (cells counted from 0), and
    nothing is written. Set-based: the cells are checked together, the stored targets read and
    locked with one `SELECT … FOR UPDATE` (after the indicator's row when a LoP cell is
    sent), and written in bulk with their history, so the number of queries does not grow
    with the cells. One recompute is asked for per batch, and none when nothing changed. Returns
    how many cells were created, updated, deleted, unchanged, and kept (sent as loaded while
    someone else changed them: the page tells its user that those show a newer value)."""
    if len(cells) > MAX_BULK_TARGETS:
        message = _("At most %(limit)s targets can be sent at once.") % {"limit": MAX_BULK_TARGETS}
        raise BulkTooLarge([RowError(MAX_BULK_TARGETS, "non_field_errors", message)])
    programme = indicator.programme
    rules = _TargetRules.for_municipalities(indicator, {cell.municipality_id for cell in cells})
    programme_periods = set(
        periods.periods_between(
            programme.start_date, programme.end_date, indicator.frequency, programme.fiscal_year_start_month
        )
    )
    outside = _("This is not one of the indicator's periods: the programme runs from %(start)s to %(end)s.") % {
        "start": programme.start_date.isoformat(),
        "end": programme.end_date.isoformat(),
    }
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    for index, cell in enumerate(cells):
        cell_errors = rules.cell_errors(cell)
        if not cell_errors and not cell.is_lop and (cell.period_start, cell.period_end) not in programme_periods:
            cell_errors = [("period_start", str(outside))]
        errors.extend(RowError(index, name, message) for name, message in cell_errors)
        if cell.key in seen:
            message = _("Cell %(other)s already gives this target.") % {"other": seen[cell.key]}
            errors.append(RowError(index, "non_field_errors", message))
        seen.setdefault(cell.key, index)
    if any(cell.is_lop for cell in cells):
        # The LoP target lives on the indicator: its row is locked before its targets (the order
        # `indicator_delete` takes them in, so the two never wait on each other) and read afresh,
        # so the check, the write and its history row see what is stored now, not the caller's
        # copy. NO KEY: results being saved for the indicator hold key-share locks on it and
        # need not wait.
        indicator = Indicator.objects.select_for_update(no_key=True).get(pk=indicator.pk)
    stored_lop = indicator.lop_target
    starts = {cell.period_start for cell in cells if not cell.is_lop}
    stored = (
        {
            (target.municipality_id, target.period_start, target.period_end): target
            for target in Target.objects.filter(indicator=indicator, period_start__in=starts)
            .order_by("pk")
            .select_for_update()
        }
        if starts
        else {}
    )
    writes = _TargetWrites(indicator=indicator, user=user, stored_lop=stored_lop)
    taken: list[tuple[TargetCell, Target | None]] = []
    invalid = {error.row for error in errors}
    for index, cell in enumerate(cells):
        target = stored.get(cell.key)
        current = stored_lop if cell.is_lop else None if target is None else target.value
        if index in invalid or cell.loaded is NOT_LOADED or cell.loaded == current:
            taken.append((cell, target))
        elif cell.value == cell.loaded:
            writes.kept += 1
        elif cell.value != current:
            message = (
                TARGET_DELETED_MESSAGE if current is None else TARGET_CHANGED_MESSAGE % {"value": _number_text(current)}
            )
            errors.append(TargetConflict(index, "value", message, current=current))
        else:  # changed here and elsewhere to the same value
            taken.append((cell, target))
    if errors:
        raise BulkValidationError(sorted(errors, key=lambda e: e.row))
    for cell, target in taken:
        writes.take(cell, target)
    counts = writes.counts
    if writes.changed:
        writes.write()
        _targets_changed(indicator.pk)
    return counts


# Indicators ---------------------------------------------------------------------------------


def _resolve_categories(codes: Iterable[str | DisaggregationCategory]) -> list[DisaggregationCategory]:
    codes = [c.code if isinstance(c, DisaggregationCategory) else c for c in codes]
    found = {c.code: c for c in DisaggregationCategory.objects.filter(code__in=codes)}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise ValidationError(
            {
                "disaggregations": _("Unknown disaggregation category: %(codes)s. Known: %(known)s.")
                % {
                    "codes": ", ".join(map(str, unknown)),
                    "known": ", ".join(DisaggregationCategory.objects.values_list("code", flat=True)),
                }
            }
        )
    return [found[code] for code in codes]


def _validate_indicator(indicator: Indicator) -> None:
    if indicator.workstream_id is not None and indicator.workstream.programme_id != indicator.programme_id:
        raise ValidationError({"workstream": _("This workstream belongs to another programme.")})


@transaction.atomic
def indicator_create(
    *,
    programme: Programme,
    code: str,
    name_en: str = "",
    disaggregations: Iterable[str | DisaggregationCategory] = (),
    **fields,
) -> Indicator:
    indicator = Indicator(programme=programme, code=code, name_en=name_en)
    apply_changes(indicator, fields, allowed=INDICATOR_FIELDS)
    categories = _resolve_categories(disaggregations)
    _validate_indicator(indicator)
    validated_save(indicator)
    indicator.disaggregations.set(categories)
    return indicator


@transaction.atomic
def indicator_update(
    *, indicator: Indicator, disaggregations: Iterable[str | DisaggregationCategory] | None = None, **changes
) -> Indicator:
    refuse_moves(indicator, changes, {"programme": _("An indicator cannot move to another programme.")})
    original_frequency = indicator.frequency
    changed = apply_changes(indicator, changes, allowed=INDICATOR_FIELDS)
    if "frequency" in changed and (indicator.results.exists() or indicator.targets.exists()):
        indicator.frequency = original_frequency
        raise ValidationError(
            {
                "frequency": _(
                    "The reporting frequency cannot change while the indicator has targets or results: "
                    "their periods follow the current frequency."
                )
            }
        )
    if changed:
        _validate_indicator(indicator)
        validated_save(indicator)
    if disaggregations is not None:
        categories = _resolve_categories(disaggregations)
        removed = set(indicator.disaggregations.values_list("code", flat=True)) - {c.code for c in categories}
        in_use = sorted(
            set(
                indicator.results.filter(disaggregation_category__in=removed).values_list(
                    "disaggregation_category", flat=True
                )
            )
        )
        if in_use:
            raise ValidationError(
                {
                    "disaggregations": _("Results are already disaggregated by %(codes)s; keep these categories.")
                    % {"codes": ", ".join(in_use)}
                }
            )
        indicator.disaggregations.set(categories)
    if changed & ROLLUP_FIELDS:
        indicators_changed.send(sender=Indicator, indicator_ids=[indicator.pk])
    return indicator


def indicator_delete_refusal(indicator: Indicator) -> ValidationError | None:
    """Why `indicator_delete` would refuse now, or None: an indicator with results, in any status,
    is not deleted, so reported data is never lost as a side effect."""
    count = indicator.results.count()
    if not count:
        return None
    return ValidationError(
        ngettext_lazy(
            "This indicator has %(count)d result. Delete it first; an approved result must be reopened "
            "by an approver before it can be deleted.",
            "This indicator has %(count)d results. Delete them first; approved results must be reopened "
            "by an approver before they can be deleted.",
            "count",
        )
        % {"count": count}
    )


@transaction.atomic
def indicator_delete(*, indicator: Indicator) -> None:
    """Delete an indicator entered by mistake, with its targets and alignments, unless
    `indicator_delete_refusal` says why not."""
    # Locked first: a result being saved for it now holds a key-share lock on the row, so this
    # waits for it and counts it, and results saved later wait for this transaction.
    Indicator.objects.select_for_update().filter(pk=indicator.pk).exists()
    refusal = indicator_delete_refusal(indicator)
    if refusal is not None:
        raise refusal
    indicator.delete()
    alignment_inputs_changed.send(sender=Alignment)  # it may have counted towards targets and goals


# Standard indicators, and copies of an indicator -----------------------------------------------

# A programme's own: its workstream, its baseline and its life-of-programme target. Everything else
# defines the measure, so a standard indicator holds it and a copy carries it.
PROGRAMME_OWN_FIELDS = frozenset({"workstream", "baseline_value", "baseline_date", "lop_target"})
STANDARD_INDICATOR_FIELDS = tuple(name for name in INDICATOR_FIELDS if name not in PROGRAMME_OWN_FIELDS)
COPIED_FIELDS = tuple(name for name in STANDARD_INDICATOR_FIELDS if name != "code")


class IndicatorCopyRefused(ValidationError, ServiceError):
    """The user may not add indicators to this programme: 403 in the API, a message on the pages."""

    http_status = 403

    def as_data(self) -> dict[str, Any]:
        return {"detail": " ".join(str(message) for message in self.messages)}


@transaction.atomic
def indicator_copy(
    *,
    source: Indicator | StandardIndicator,
    programme: Programme,
    code: str,
    user: AbstractBaseUser | None,
) -> Indicator:
    """A new indicator of `programme`, defined, measured, bounded and disaggregated as `source` (an
    indicator of any programme, or a standard indicator), so that the same measure is counted the
    same way everywhere. Its workstream, baseline, LoP target, targets, results and alignments
    are the source programme's own and stay there. The copy names the standard it follows: the
    source itself, or the standard the source was copied from.

    With a `user`, the source must be one they see (an unseen one is answered as unknown) and the
    programme one they edit."""
    if user is not None:
        access = access_for(user)
        if isinstance(source, Indicator) and not access.sees_programme(source.programme_id):
            raise ValidationError({"source": _("Unknown indicator.")})
        if not access.can_edit_programme_id(programme.pk):
            raise IndicatorCopyRefused(_("Only the programme's editors add indicators to it."))
    code = (code or "").strip()
    if not code:
        raise ValidationError({"code": _("Enter a code for the copy.")})
    # Asked here rather than left to the constraint, whose message names no field.
    if Indicator.objects.filter(programme=programme, code=code).exists():
        raise ValidationError(
            {
                "code": _(
                    "This programme already has an indicator with the code %(code)s. Choose a new code for the copy."
                )
                % {"code": code}
            }
        )
    standard_id = source.pk if isinstance(source, StandardIndicator) else source.standard_id
    indicator = Indicator(programme=programme, code=code, standard_id=standard_id)
    apply_changes(indicator, {name: getattr(source, name) for name in COPIED_FIELDS}, allowed=COPIED_FIELDS)
    if user is not None:
        indicator._history_user = user
    validated_save(indicator)
    indicator.disaggregations.set(source.disaggregations.all())
    return indicator


@transaction.atomic
def standard_indicator_create(
    *,
    code: str,
    name_en: str = "",
    disaggregations: Iterable[str | DisaggregationCategory] = (),
    **fields,
) -> StandardIndicator:
    standard = StandardIndicator(code=code, name_en=name_en)
    apply_changes(standard, fields, allowed=STANDARD_INDICATOR_FIELDS)
    categories = _resolve_categories(disaggregations)
    validated_save(standard)
    standard.disaggregations.set(categories)
    return standard


@transaction.atomic
def standard_indicator_update(
    *,
    standard_indicator: StandardIndicator,
    disaggregations: Iterable[str | DisaggregationCategory] | None = None,
    **changes,
) -> StandardIndicator:
    """Change the standard. Indicators already copied from it keep what they copied: their results
    were reported against that definition."""
    if apply_changes(standard_indicator, changes, allowed=STANDARD_INDICATOR_FIELDS):
        validated_save(standard_indicator)
    if disaggregations is not None:
        standard_indicator.disaggregations.set(_resolve_categories(disaggregations))
    return standard_indicator


def standard_indicator_delete_refusal(standard_indicator: StandardIndicator) -> ValidationError | None:
    """Why `standard_indicator_delete` would refuse now, or None: programmes that copied a
    standard count by it, so it stays while any of their indicators names it."""
    count = standard_indicator.indicators.count()
    if not count:
        return None
    return ValidationError(
        ngettext_lazy(
            "%(count)d indicator of a programme was copied from this standard indicator and still "
            "follows it. It can be deleted once that indicator is gone.",
            "%(count)d indicators of programmes were copied from this standard indicator and still "
            "follow it. It can be deleted once those indicators are gone.",
            "count",
        )
        % {"count": count}
    )


@transaction.atomic
def standard_indicator_delete(*, standard_indicator: StandardIndicator) -> None:
    """Delete a standard indicator unless `standard_indicator_delete_refusal` says why not."""
    # Locked first: a copy being made now holds a key-share lock on the row, so this waits for it.
    StandardIndicator.objects.select_for_update().filter(pk=standard_indicator.pk).exists()
    refusal = standard_indicator_delete_refusal(standard_indicator)
    if refusal is not None:
        raise refusal
    standard_indicator.delete()


# National targets, funder goals, alignments -------------------------------------------------


def _clean_sdg_targets(sdg_targets: Iterable[str]) -> list[str]:
    codes = [str(code).strip() for code in sdg_targets or []]
    wrong = [code for code in codes if not SDG_TARGET_PATTERN.match(code)]
    if wrong:
        raise ValidationError(
            {
                "sdg_targets": _("%(codes)s: not SDG target codes. Use goal.target, for example 11.3 or 16.a.")
                % {"codes": ", ".join(wrong)}
            }
        )
    # Well formed is not enough: 11.9 reads like a target but the UN list has none, and a
    # report that counts towards it would count towards nothing.
    unknown = unknown_sdg_targets(dict.fromkeys(codes))
    if unknown:
        raise ValidationError(
            {
                "sdg_targets": ngettext_lazy(
                    "%(codes)s: there is no SDG target with this code. Pick it from the list of the 169 targets.",
                    "%(codes)s: there are no SDG targets with these codes. Pick them from the list of the 169 targets.",
                    "count",
                )
                % {"codes": ", ".join(unknown), "count": len(unknown)}
            }
        )
    return sorted(set(codes), key=sdg_target_sort_key)


def sdg_target_sort_key(code: str) -> tuple[int, bool, int | str]:
    """11.3 before 11.10 before 11.a: numbered targets first, then lettered ones (never int < str)."""
    goal, target = code.split(".")
    return int(goal), not target.isdigit(), int(target) if target.isdigit() else target


@transaction.atomic
def national_target_create(
    *, code: str, title_en: str = "", sdg_targets: Iterable[str] = (), **fields
) -> NationalTarget:
    target = NationalTarget(code=code, title_en=title_en, sdg_targets=_clean_sdg_targets(sdg_targets))
    apply_changes(target, fields, allowed=NATIONAL_TARGET_FIELDS)
    return validated_save(target)


@transaction.atomic
def national_target_update(
    *, national_target: NationalTarget, sdg_targets: Iterable[str] | None = None, **changes
) -> NationalTarget:
    changed = apply_changes(national_target, changes, allowed=NATIONAL_TARGET_FIELDS)
    if sdg_targets is not None:
        national_target.sdg_targets = _clean_sdg_targets(sdg_targets)
        changed.add("sdg_targets")
    if changed:
        validated_save(national_target)
    return national_target


def national_target_delete_refusal(national_target: NationalTarget) -> ValidationError | None:
    """Why `national_target_delete` would refuse now, or None: alignments to the target belong to
    the programmes that made them, so a target with any is not deleted."""
    count = national_target.alignments.count()
    if not count:
        return None
    return ValidationError(
        ngettext_lazy(
            "%(count)d indicator is aligned to this national target. Remove that alignment first.",
            "%(count)d indicators are aligned to this national target. Remove those alignments first.",
            "count",
        )
        % {"count": count}
    )


@transaction.atomic
def national_target_delete(*, national_target: NationalTarget) -> None:
    """Delete a national target unless `national_target_delete_refusal` says why not."""
    NationalTarget.objects.select_for_update().filter(pk=national_target.pk).exists()
    refusal = national_target_delete_refusal(national_target)
    if refusal is not None:
        raise refusal
    national_target.delete()
    alignment_inputs_changed.send(sender=Alignment)  # it was listed as a gap


def _validate_goal_parent(goal: FunderGoal) -> None:
    if goal.parent_id is None:
        return
    if goal.parent.donor_id != goal.donor_id:
        raise ValidationError({"parent": _("A goal's parent must belong to the same donor.")})
    ancestor, seen = goal.parent, set()
    while ancestor is not None:
        if (goal.pk is not None and ancestor.pk == goal.pk) or ancestor.pk in seen:
            raise ValidationError({"parent": _("This parent would make the goal its own ancestor.")})
        seen.add(ancestor.pk)
        ancestor = ancestor.parent


@transaction.atomic
def funder_goal_create(
    *, donor: Organisation, code: str, title_en: str = "", sdg_targets: Iterable[str] = (), **fields
) -> FunderGoal:
    if donor.kind != Organisation.Kind.DONOR:
        raise ValidationError({"donor": _("Funder goals belong to a donor organisation.")})
    goal = FunderGoal(donor=donor, code=code, title_en=title_en, sdg_targets=_clean_sdg_targets(sdg_targets))
    apply_changes(goal, fields, allowed=FUNDER_GOAL_FIELDS)
    _validate_goal_parent(goal)
    return validated_save(goal)


@transaction.atomic
def funder_goal_update(*, funder_goal: FunderGoal, sdg_targets: Iterable[str] | None = None, **changes) -> FunderGoal:
    refuse_moves(funder_goal, changes, {"donor": _("A goal cannot move to another donor.")})
    changed = apply_changes(funder_goal, changes, allowed=FUNDER_GOAL_FIELDS)
    if sdg_targets is not None:
        funder_goal.sdg_targets = _clean_sdg_targets(sdg_targets)
        changed.add("sdg_targets")
    if "parent" in changed:
        _validate_goal_parent(funder_goal)
    if changed:
        validated_save(funder_goal)
    if "parent" in changed:
        alignment_inputs_changed.send(sender=Alignment)
    return funder_goal


def funder_goal_delete_refusal(funder_goal: FunderGoal) -> ValidationError | None:
    """Why `funder_goal_delete` would refuse now, or None. Deleting a goal would take its sub-goals
    with it, and alignments to it belong to the programmes that made them: a goal with either is
    not deleted, so no part of a donor's framework or a programme's alignment goes as a side effect."""
    children = funder_goal.children.count()
    if children:
        return ValidationError(
            ngettext_lazy(
                "This goal has %(count)d sub-goal. Move it under another goal or delete it first.",
                "This goal has %(count)d sub-goals. Move them under another goal or delete them first.",
                "count",
            )
            % {"count": children}
        )
    aligned = funder_goal.alignments.count()
    if aligned:
        return ValidationError(
            ngettext_lazy(
                "%(count)d indicator is aligned to this goal. Remove that alignment first.",
                "%(count)d indicators are aligned to this goal. Remove those alignments first.",
                "count",
            )
            % {"count": aligned}
        )
    return None


@transaction.atomic
def funder_goal_delete(*, funder_goal: FunderGoal) -> None:
    """Delete a funder goal unless `funder_goal_delete_refusal` says why not."""
    FunderGoal.objects.select_for_update().filter(pk=funder_goal.pk).exists()
    refusal = funder_goal_delete_refusal(funder_goal)
    if refusal is not None:
        raise refusal
    funder_goal.delete()
    alignment_inputs_changed.send(sender=Alignment)


def _parse_weight(weight: Decimal | int | str | None) -> Decimal:
    try:
        return Decimal(1) if weight is None else Decimal(str(weight))
    except InvalidOperation as error:
        raise ValidationError({"weight": _("Enter a number.")}) from error


@transaction.atomic
def alignment_create(
    *,
    indicator: Indicator,
    national_target: NationalTarget | None = None,
    funder_goal: FunderGoal | None = None,
    weight: Decimal | int | str | None = None,
) -> Alignment:
    alignment = validated_save(
        Alignment(
            indicator=indicator, national_target=national_target, funder_goal=funder_goal, weight=_parse_weight(weight)
        )
    )
    alignment_inputs_changed.send(sender=Alignment)
    return alignment


@transaction.atomic
def alignment_update(*, alignment: Alignment, **changes) -> Alignment:
    if "weight" in changes:
        changes["weight"] = _parse_weight(changes["weight"])
    if apply_changes(alignment, changes, allowed=("indicator", "national_target", "funder_goal", "weight")):
        validated_save(alignment)
        alignment_inputs_changed.send(sender=Alignment)
    return alignment


@transaction.atomic
def alignment_delete(*, alignment: Alignment) -> None:
    alignment.delete()
    alignment_inputs_changed.send(sender=Alignment)


def clean_alignment_weight(weight: Decimal | int | str | None) -> Decimal:
    """A weight as an alignment stores it (a number of at most 8 digits, 4 after the point, never
    negative; none given is 1), checked without a query, so a whole matrix costs none per cell."""
    value = _parse_weight(weight)
    try:
        value = Alignment._meta.get_field("weight").clean(value, None)
    except ValidationError as error:
        raise ValidationError({"weight": error.messages}) from error
    if value < 0:
        raise ValidationError({"weight": _("The weight cannot be negative.")})
    return value


@dataclass(frozen=True)
class AlignmentCell:
    """One cell of an alignment matrix as it is to be: the indicator aligned to one national
    target or funder goal with a weight (none given: 1), or not aligned."""

    indicator: Indicator
    national_target: NationalTarget | None = None
    funder_goal: FunderGoal | None = None
    aligned: bool = True
    weight: Decimal | int | str | None = None


@dataclass
class AlignmentsOutcome:
    created: list[Alignment] = field(default_factory=list)
    updated: list[Alignment] = field(default_factory=list)
    deleted: list[Alignment] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


@transaction.atomic
def alignments_set(*, cells: Sequence[AlignmentCell], user: AbstractBaseUser | None = None) -> AlignmentsOutcome:
    """Bring every given cell to the state it asks for, all or nothing: a bad cell raises
    `BulkValidationError` whose rows are the cells' indexes, and nothing is written. Cells already
    as asked are left alone; one alignment recompute for the whole batch."""
    indicator_ids = {cell.indicator.pk for cell in cells}
    stored = {
        (alignment.indicator_id, alignment.national_target_id, alignment.funder_goal_id): alignment
        for alignment in Alignment.objects.select_for_update().filter(indicator_id__in=indicator_ids).order_by("pk")
    }
    outcome, errors = AlignmentsOutcome(), []
    for index, cell in enumerate(cells):
        if (cell.national_target is None) == (cell.funder_goal is None):
            message = _("Align the indicator to exactly one national target or funder goal.")
            errors.append(RowError(index, "non_field_errors", message))
            continue
        key = (
            cell.indicator.pk,
            cell.national_target.pk if cell.national_target else None,
            cell.funder_goal.pk if cell.funder_goal else None,
        )
        current = stored.get(key)
        if not cell.aligned:
            if current is not None:
                outcome.deleted.append(current)
            continue
        try:
            weight = clean_alignment_weight(cell.weight)
        except ValidationError as error:
            errors.append(RowError(index, "weight", " ".join(str(m) for m in error.messages)))
            continue
        if current is None:
            outcome.created.append(
                Alignment(
                    indicator=cell.indicator,
                    national_target=cell.national_target,
                    funder_goal=cell.funder_goal,
                    weight=weight,
                )
            )
        elif current.weight != weight:
            current.weight = weight
            outcome.updated.append(current)
    if errors:
        raise BulkValidationError(errors)
    for alignment in outcome.deleted:
        alignment._history_user = user
        alignment.delete()
    if outcome.updated:
        bulk_update_with_history(outcome.updated, Alignment, ["weight"], default_user=user)
    if outcome.created:
        try:
            with transaction.atomic():
                outcome.created = bulk_create_with_history(outcome.created, Alignment, default_user=user)
        except IntegrityError as error:  # another user aligned one of these cells after our read
            message = _("Someone else changed these alignments at the same time; try again.")
            raise BulkValidationError([RowError(0, "non_field_errors", message)]) from error
    if outcome.changed:
        alignment_inputs_changed.send(sender=Alignment)
    return outcome
