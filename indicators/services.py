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
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from simple_history.utils import bulk_create_with_history

from common.dates import in_date_range
from common.errors import ServiceError
from common.models import date_range_message
from common.services import apply_changes, refuse_moves, validated_save
from indicators.signals import alignment_inputs_changed, indicators_changed, result_cells_changed
from partners.models import Organisation
from projects.models import Programme
from projects.selectors import participating_municipality_ids

from . import periods
from .models import (
    Alignment,
    DisaggregationCategory,
    DisaggregationOption,
    FunderGoal,
    Indicator,
    NationalTarget,
    Result,
    Target,
)

MAX_BULK_RESULTS = 10_000
EVIDENCE_URL_VALIDATOR = URLValidator(schemes=["http", "https"])
VALUE_QUANTUM = Decimal("0.0001")
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


class StaleVersion(ServiceError):
    """The caller edited an older version of the result than the one stored."""

    http_status = 412

    def __init__(self, current_version: int):
        self.current_version = current_version
        super().__init__(
            _("This result was changed by someone else (now version %(version)s). Reload it and try again.")
            % {"version": current_version}
        )

    def as_data(self) -> dict[str, Any]:
        return {"detail": str(self), "version": self.current_version}


class ResultLocked(ValidationError, ServiceError):
    """An approved result cannot change until an approver reopens it."""

    http_status = 409

    def as_data(self) -> dict[str, Any]:
        return {"detail": " ".join(str(message) for message in self.messages)}


@dataclass
class RowError:
    row: int
    field: str
    message: str

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


# Results: one validator for single writes, bulk writes and spreadsheet imports ---------------


@dataclass
class ResultRow:
    """A result as entered, before validation; ids rather than objects so that 10,000 rows
    validate in a handful of queries."""

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


class ResultValidator:
    """Checks result rows against the rules the database cannot hold: the period matches the
    indicator's frequency and fiscal year; the municipality takes part in the programme; the
    disaggregation is one of the indicator's; the measure decides which values are needed.

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
        if row.evidence_url:
            try:
                EVIDENCE_URL_VALIDATOR(row.evidence_url)
            except ValidationError:
                errors.append(("evidence_url", str(_("Enter a valid link, starting with https:// or http://."))))
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
    def _check_values(indicator: Indicator, row: ResultRow) -> tuple[Decimal | None, list[tuple[str, str]]]:
        if indicator.measure == Indicator.Measure.PERCENTAGE:
            errors = []
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
            value = (Decimal(100) * row.numerator / row.denominator).quantize(VALUE_QUANTUM, ROUND_HALF_UP)
            return value, []
        errors = []
        if row.value is None:
            errors.append(("value", str(_("Enter a value."))))
        elif indicator.measure == Indicator.Measure.NUMBER and row.value < 0:
            errors.append(("value", str(_("A count cannot be negative."))))
        if row.numerator is not None or row.denominator is not None:
            field_name = "numerator" if row.numerator is not None else "denominator"
            errors.append(
                (field_name, str(_("Only percentage indicators take a numerator and a denominator; enter a value.")))
            )
        return row.value, errors


def _raise_row_errors(errors: list[tuple[str, str]]) -> None:
    by_field: dict[str, list[str]] = {}
    for field_name, message in errors:
        by_field.setdefault(field_name, []).append(message)
    raise ValidationError(by_field)


def _existing_cells(cells: set[tuple]) -> set[tuple]:
    """Which of these (indicator, start, end, municipality, category, option) cells already exist."""
    if not cells:
        return set()
    found = Result.objects.filter(
        indicator_id__in={c[0] for c in cells},
        period_start__in={c[1] for c in cells},
        municipality_id__in={c[3] for c in cells},
    ).values_list(
        "indicator_id",
        "period_start",
        "period_end",
        "municipality_id",
        "disaggregation_category",
        "disaggregation_option",
    )
    return set(found) & cells


def _cell(clean: Mapping[str, Any]) -> tuple:
    return (
        clean["indicator_id"],
        clean["period_start"],
        clean["period_end"],
        clean["municipality_id"],
        clean["disaggregation_category"],
        clean["disaggregation_option"],
    )


CREATABLE_STATUSES = (Result.Status.DRAFT, Result.Status.SUBMITTED, Result.Status.APPROVED)


def _status_stamps(status: str, user: AbstractBaseUser | None) -> dict[str, Any]:
    now = timezone.now()
    stamps: dict[str, Any] = {"status": status}
    if status in (Result.Status.SUBMITTED, Result.Status.APPROVED):
        stamps.update(submitted_by=user, submitted_at=now)
    if status == Result.Status.APPROVED:
        stamps.update(reviewed_by=user, reviewed_at=now)
    return stamps


@transaction.atomic
def results_create(
    *, rows: Sequence[ResultRow], user: AbstractBaseUser | None, status: str = Result.Status.DRAFT
) -> list[Result]:
    """Create many results at once: all or none. Invalid rows raise BulkValidationError with one
    entry per problem (row numbers count from 0, in the order given)."""
    if status not in CREATABLE_STATUSES:
        raise ValidationError({"status": _("New results are drafts, submitted or (for approvers) approved.")})
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
    validator = ResultValidator({r.indicator_id for r in rows}, {r.municipality_id for r in rows})
    errors: list[RowError] = []
    cleaned: list[tuple[int, dict[str, Any]]] = []
    seen: dict[tuple, int] = {}
    for index, row in enumerate(rows):
        clean, row_errors = validator.check(row)
        errors.extend(RowError(index, field_name, message) for field_name, message in row_errors)
        if clean is None:
            continue
        cell = _cell(clean)
        if cell in seen:
            errors.append(
                RowError(
                    index, "non_field_errors", _("Row %(other)s already gives this result.") % {"other": seen[cell]}
                )
            )
            continue
        seen[cell] = index
        cleaned.append((index, clean))
    existing = _existing_cells(set(seen))
    for index, clean in cleaned:
        if _cell(clean) in existing:
            errors.append(
                RowError(
                    index,
                    "non_field_errors",
                    _("A result for this indicator, period, municipality and disaggregation already exists."),
                )
            )
    if errors:
        raise BulkValidationError(sorted(errors, key=lambda e: e.row))
    stamps = _status_stamps(status, user)
    results = [Result(**clean, created_by=user, **stamps) for _index, clean in cleaned]
    try:
        with transaction.atomic():
            created = bulk_create_with_history(results, Result, batch_size=1000, default_user=user)
    except IntegrityError as error:  # a concurrent writer took one of the cells after our check
        message = _("Another user saved some of these results at the same time; try again.")
        raise BulkValidationError([RowError(0, "non_field_errors", message)]) from error
    if status == Result.Status.APPROVED:  # drafts and submissions move no number
        result_cells_changed.send(sender=Result, cells=[_counted_cell(result) for result in results])
    return created


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


@transaction.atomic
def result_update(
    *, result: Result, user: AbstractBaseUser | None, expected_version: int | None = None, **changes
) -> Result:
    """Change a result's values. Approved results are locked until reopened."""
    result = _lock(result)
    _check_version(result, expected_version)
    if result.status == Result.Status.APPROVED:
        raise ResultLocked(_("This result is approved and locked. An approver must reopen it before it can change."))
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
    for name in RESULT_VALUE_FIELDS:
        setattr(result, name, clean[name])
    result.version += 1
    result._history_user = user
    validated_save(result)
    return result


TRANSITIONS = {
    "submit": ({Result.Status.DRAFT, Result.Status.RETURNED}, Result.Status.SUBMITTED),
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
    was_counted = result.status == Result.Status.APPROVED
    now = timezone.now()
    result.status = to_status
    if action == "submit":
        result.submitted_by, result.submitted_at = user, now
    elif action in ("approve", "return", "reopen"):
        result.reviewed_by, result.reviewed_at = user, now
    if comment:
        result.comment = comment
    result.version += 1
    result._history_user = user
    result.save()
    if was_counted or to_status == Result.Status.APPROVED:
        result_cells_changed.send(sender=Result, cells=[_counted_cell(result)])
    return result


ACTION_PAST = {"submit": _("submitted"), "approve": _("approved"), "return": _("returned"), "reopen": _("reopened")}


@transaction.atomic
def result_submit(*, result: Result, user: AbstractBaseUser | None, expected_version: int | None = None) -> Result:
    return _transition(result, "submit", user, expected_version)


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
    if result.status == Result.Status.APPROVED:
        raise ResultLocked(_("This result is approved and locked. An approver must reopen it before it can change."))
    result._history_user = user
    result.delete()


# Targets ------------------------------------------------------------------------------------


@transaction.atomic
def target_set(
    *,
    indicator: Indicator,
    period_start: datetime.date,
    period_end: datetime.date,
    value: Decimal,
    municipality: Organisation | None = None,
) -> Target:
    """Create or replace the target of one period (municipality None: programme-wide)."""
    errors: dict[str, Any] = {}
    if period_end <= period_start:
        errors["period_end"] = _("The period end must be after the period start.")
    else:
        message = period_error(
            frequency=indicator.frequency,
            fiscal_year_start_month=indicator.programme.fiscal_year_start_month,
            period_start=period_start,
            period_end=period_end,
        )
        if message:
            errors["period_start"] = message
    if municipality is not None:
        if municipality.kind != Organisation.Kind.MUNICIPALITY:
            errors["municipality"] = _("Choose a municipality, or leave it empty for a programme-wide target.")
        elif municipality.pk not in participating_municipality_ids({indicator.programme_id})[indicator.programme_id]:
            errors["municipality"] = _("This municipality does not take part in the indicator's programme.")
    if value is None:
        errors["value"] = _("Enter a value.")
    elif value < 0:
        errors["value"] = _("A target cannot be negative.")
    if errors:
        raise ValidationError(errors)
    target = Target.objects.filter(
        indicator=indicator, municipality=municipality, period_start=period_start, period_end=period_end
    ).first() or Target(
        indicator=indicator, municipality=municipality, period_start=period_start, period_end=period_end
    )
    if target.pk is not None and target.value == value:
        return target
    target.value = value
    validated_save(target)
    indicators_changed.send(sender=Indicator, indicator_ids=[indicator.pk])
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
    old_indicator_id = target.indicator_id
    key_changed = any(
        fields[k] != getattr(target, k) for k in ("indicator", "municipality", "period_start", "period_end")
    )
    if key_changed:
        target.delete()
        indicators_changed.send(sender=Indicator, indicator_ids=[old_indicator_id])
    return target_set(**fields)


@transaction.atomic
def target_delete(*, target: Target) -> None:
    indicator_id = target.indicator_id
    target.delete()
    indicators_changed.send(sender=Indicator, indicator_ids=[indicator_id])


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
    name_en: str,
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
    return sorted(set(codes), key=sdg_target_sort_key)


def sdg_target_sort_key(code: str) -> tuple[int, bool, int | str]:
    """11.3 before 11.10 before 11.a: numbered targets first, then lettered ones (never int < str)."""
    goal, target = code.split(".")
    return int(goal), not target.isdigit(), int(target) if target.isdigit() else target


@transaction.atomic
def national_target_create(*, code: str, title_en: str, sdg_targets: Iterable[str] = (), **fields) -> NationalTarget:
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
    *, donor: Organisation, code: str, title_en: str, sdg_targets: Iterable[str] = (), **fields
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


@transaction.atomic
def funder_goal_delete(*, funder_goal: FunderGoal) -> None:
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
