"""Reports read from stored rollups (docs/design.md §4–§6), shared by the API and the pages.

`iptt(programme=, access=, options=)` — the Indicator Performance Tracking Table of one programme:
one row per indicator with its baseline, each period's target / actual / % of target / status (the
periods in order), the life-of-programme (LoP) figures and the progress to date (docs/design.md
§4); at programme scope, or for one municipality or twinning, for the total and, when asked, each
disaggregation option. A fixed number of queries whatever the size of the programme.

`alignment(access=, programme=None, as_of=None)` — the §5 alignment report over the programmes the
user sees (or one of them), funder goals limited to those the user may see, with progress to date.

Both return plain data (Decimal, date, datetime values; ids) with `computed_at` and `pending`;
`cached(...)` wraps either in the cache, keyed by the user's scope and `report_version()` (which
moves with every rollup request or recompute and every edit of a name the reports show), so two
users who see different things never share an entry and nothing stale is served. A cache that is
down is skipped, not fatal.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from indicators import periods
from indicators.models import DisaggregationOption, FunderGoal, Indicator, NationalTarget
from projects.access import Access
from projects.models import Programme
from projects.selectors import programme_municipality_ids
from rollups import rollup_math
from rollups.alignment import compute_alignment, report_as_dict, stored_global_report
from rollups.models import AlignmentSnapshot, IndicatorRollupState, Rollup, RollupCellRequest
from rollups.queue import latest_computed_at, pending_indicator_ids

from .models import ReportContentVersion

logger = logging.getLogger(__name__)
CACHE_SECONDS = 300


# IPTT ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IPTTOptions:
    """What an IPTT is asked for: progress to date as of a date (None: today's, as stored), at
    programme scope or for one municipality or twinning, with or without a row per disaggregation
    option under each total."""

    as_of: datetime.date | None = None
    scope: str = Rollup.Scope.PROGRAMME
    scope_id: int | None = None
    disaggregated: bool = False

    @property
    def cache_parts(self) -> tuple:
        """What a cached IPTT depends on besides the programme and the user's scope; the date is
        today's when none was asked, so the cache never answers yesterday's date."""
        return (self.as_of or timezone.localdate(), self.scope, self.scope_id, self.disaggregated)


def as_of_date(raw: str | None) -> datetime.date | None:
    """A report's `?as_of=YYYY-MM-DD` (None when not given); a ValidationError naming `as_of` otherwise."""
    if raw in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError as error:
        raise ValidationError({"as_of": [_("Enter a date as YYYY-MM-DD, for example 2026-06-30.")]}) from error


def iptt_options(params: Mapping[str, str]) -> IPTTOptions:
    """The IPTT options of a query string (`as_of`, `scope`, `scope_id`, `disaggregated`); a
    ValidationError naming each parameter at fault. Whether the scope is one the user may see in
    the programme is `iptt_scope_visible`."""
    errors: dict[str, list] = {}
    try:
        as_of = as_of_date(params.get("as_of"))
    except ValidationError as error:
        errors.update(error.message_dict)
        as_of = None
    scope = params.get("scope") or Rollup.Scope.PROGRAMME
    scope_id = None
    if scope not in Rollup.Scope.values:
        errors["scope"] = [_("Choose programme, twinning or municipality.")]
    elif scope != Rollup.Scope.PROGRAMME:
        raw = params.get("scope_id", "")
        if not raw.isdigit() or not 0 < int(raw) < 2**63:
            errors["scope_id"] = [_("Give the id of the municipality or twinning, a whole number.")]
        else:
            scope_id = int(raw)
    disaggregated = params.get("disaggregated", "")
    if disaggregated not in ("", "0", "1", "true", "false"):
        errors["disaggregated"] = [_("Use 1 for a row per disaggregation option, or 0.")]
    if errors:
        raise ValidationError(errors)
    return IPTTOptions(as_of, scope, scope_id, disaggregated in ("1", "true"))


def iptt_scope_visible(access: Access, programme: Programme, options: IPTTOptions) -> bool:
    """Whether the user may see the IPTT of that scope: one of the programme's twinnings, or one of
    its municipalities whose own rows the user sees (docs/design.md §7)."""
    if options.scope == Rollup.Scope.PROGRAMME:
        return True
    if options.scope == Rollup.Scope.TWINNING:
        return programme.twinnings.filter(pk=options.scope_id).exists()
    return sees_municipality_rows(access, programme, options.scope_id) and options.scope_id in (
        programme_municipality_ids(programme)
    )


def sees_municipality_rows(access: Access, programme: Programme, municipality_id: int) -> bool:
    """Whether the user sees that municipality's own rows in the programme: everyone who sees the
    programme whole; a member who sees it through a municipality, that municipality's only."""
    fully = access.fully_visible_programme_ids
    return fully is None or programme.pk in fully or municipality_id in access.municipality_ids


def iptt(*, programme: Programme, access: Access, options: IPTTOptions | None = None) -> dict[str, Any]:
    """The IPTT of a programme the user sees (the caller checks `access.sees_programme` and
    `iptt_scope_visible`): a row per indicator (and per disaggregation option under it when asked),
    its periods in order, its LoP figures and its progress to date (docs/design.md §4).

    Progress to date is the one stored on the LoP rows (today's) unless `options.as_of` asks for
    another date; then it is computed from the period rows read anyway, so asking costs no query.
    A fixed number of queries whatever the size of the programme (one more for option labels).
    """
    options = options or IPTTOptions()
    scope_id = programme.pk if options.scope == Rollup.Scope.PROGRAMME else options.scope_id
    indicators = list(
        Indicator.objects.filter(programme=programme)
        .order_by("code", "id")
        .only(
            "id",
            "code",
            "name",
            "name_en",
            "name_ar",
            "unit",
            "unit_en",
            "unit_ar",
            "direction",
            "baseline_value",
            "frequency",
            "measure",
            "time_aggregation",
            "lop_target",
        )
    )
    ids = [indicator.pk for indicator in indicators]
    # indicator -> (category, option) -> period (None: life of programme) -> stored row
    cells: dict[int, dict[tuple[str, str], dict[tuple | None, Rollup]]] = defaultdict(lambda: defaultdict(dict))
    rollups = Rollup.objects.filter(indicator__programme=programme, scope=options.scope, scope_id=scope_id)
    if not options.disaggregated:
        rollups = rollups.filter(disaggregation_category="")
    rollups = rollups.filter(access.rollup_filter()).only(
        "indicator_id",
        "period_start",
        "period_end",
        "disaggregation_category",
        "disaggregation_option",
        "actual",
        "target",
        "percent_of_target",
        "status",
        "target_to_date",
        "percent_to_date",
        "status_to_date",
    )
    for rollup in rollups:
        key = None if rollup.period_start is None else (rollup.period_start, rollup.period_end)
        cells[rollup.indicator_id][(rollup.disaggregation_category, rollup.disaggregation_option)][key] = rollup
    labels = disaggregation_labels() if options.disaggregated else {}
    rows = []
    for indicator in indicators:
        series = cells.get(indicator.pk, {})
        spans = periods.periods_between(
            programme.start_date, programme.end_date, indicator.frequency, programme.fiscal_year_start_month
        )
        for breakdown in [("", ""), *sorted(key for key in series if key != ("", ""))]:
            own = series.get(breakdown, {})
            rows.append(_iptt_row(indicator, breakdown, own, spans, options, labels))
    return {
        "programme": programme.pk,
        "code": programme.code,
        "name": programme.name,
        "scope": options.scope,
        "scope_id": scope_id,
        "rows": rows,
        "as_of": options.as_of or timezone.localdate(),
        "computed_at": latest_computed_at(ids) if ids else None,
        "pending": bool(pending_indicator_ids(ids)) if ids else False,
    }


def _iptt_row(
    indicator: Indicator,
    breakdown: tuple[str, str],
    own: dict[tuple | None, Rollup],
    spans: list[tuple[datetime.date, datetime.date]],
    options: IPTTOptions,
    labels: dict[tuple[str, str], str],
) -> dict[str, Any]:
    """One IPTT row: an indicator's total (breakdown ("", "")) or one disaggregation option. The
    indicator's `lop_target` stands in for a LoP row not computed yet, at programme scope only."""
    is_total = breakdown == ("", "")
    lop = own.get(None)
    columns = sorted(set(spans) | {key for key in own if key is not None})
    as_of = options.as_of
    if as_of is not None or lop is None:
        to_date = rollup_math.progress_to_date(
            indicator.measure,
            indicator.time_aggregation,
            indicator.direction,
            [rollup_math.PeriodRow(*key, row.target, row.actual) for key, row in own.items() if key is not None],
            as_of or timezone.localdate(),
        )
        target_to_date, percent_to_date, status_to_date = to_date.target, to_date.percent_of_target, to_date.status
    else:
        target_to_date, percent_to_date, status_to_date = lop.target_to_date, lop.percent_to_date, lop.status_to_date
    return {
        "indicator": indicator.pk,
        "code": indicator.code,
        "name": indicator.name,
        "disaggregation": {breakdown[0]: breakdown[1]} if not is_total else {},
        "disaggregation_label": "" if is_total else labels.get(breakdown, ": ".join(breakdown)),
        "unit": indicator.unit,
        "direction": indicator.direction,
        "measure": indicator.measure,
        "frequency": indicator.frequency,
        "baseline_value": indicator.baseline_value if is_total else None,
        "periods": [_period_cell(start, end, own.get((start, end))) for start, end in columns],
        "lop_target": lop.target
        if lop
        else (indicator.lop_target if is_total and options.scope == Rollup.Scope.PROGRAMME else None),
        "lop_actual": lop.actual if lop else None,
        "lop_percent_of_target": lop.percent_of_target if lop else None,
        "lop_status": lop.status if lop else Rollup.Status.NO_DATA,
        "target_to_date": target_to_date,
        "percent_to_date": percent_to_date,
        "status_to_date": status_to_date,
    }


def _period_cell(start: datetime.date, end: datetime.date, rollup: Rollup | None) -> dict[str, Any]:
    return {
        "period_start": start,
        "period_end": end,
        "target": rollup.target if rollup else None,
        "actual": rollup.actual if rollup else None,
        "percent_of_target": rollup.percent_of_target if rollup else None,
        "status": rollup.status if rollup else Rollup.Status.NO_DATA,
    }


def disaggregation_labels() -> dict[tuple[str, str], str]:
    """(category code, option code) → "Category: Option" in the active language (one query)."""
    return {
        (option.category.code, option.code): f"{option.category.name}: {option.name}"
        for option in DisaggregationOption.objects.select_related("category")
    }


def iptt_columns(report: dict[str, Any]) -> list[tuple[datetime.date, datetime.date]]:
    """Every period any row has, in period order (by start, then end): the columns of a flat (CSV,
    XLSX, HTML) table, where quarterly and half-yearly indicators share one time line."""
    found = {(p["period_start"], p["period_end"]) for row in report["rows"] for p in row["periods"]}
    return sorted(found, key=lambda period: (period[0], period[1]))


# Alignment ----------------------------------------------------------------------------------


def alignment(
    *, access: Access, programme: Programme | None = None, as_of: datetime.date | None = None
) -> dict[str, Any]:
    """The §5 report over what the user sees; `programme` (already checked visible) narrows it.
    Progress to date is today's, as stored, unless `as_of` asks for another date (then the report
    is computed for it from the stored period rows, never read from the snapshot)."""
    if programme is None and access.sees_everything and as_of is None:
        report = stored_global_report()
        if report["computed_at"] is None:  # never stored yet: compute it live
            report = report_as_dict(compute_alignment(None))
    elif programme is None and access.sees_everything:
        report = report_as_dict(compute_alignment(None, as_of=as_of))
    else:
        ids = [programme.pk] if programme is not None else sorted(access.programme_ids or ())
        report = report_as_dict(compute_alignment(ids, as_of=as_of))
    visible_goals = set(FunderGoal.objects.filter(access.funder_goal_filter()).values_list("pk", flat=True))
    goals = {
        goal.pk: goal
        for goal in FunderGoal.objects.filter(pk__in=visible_goals).only("id", "code", "title", "title_en", "title_ar")
    }
    targets = {t.pk: t for t in NationalTarget.objects.only("id", "code", "title", "title_en", "title_ar")}

    def described(rows, objects):
        kept = []
        for row in rows:
            obj = objects.get(row["id"])
            if obj is None:
                continue
            kept.append(
                {"id": row["id"], "code": obj.code, "title": obj.title, **{k: v for k, v in row.items() if k != "id"}}
            )
        return kept

    report["national_targets"] = described(report["national_targets"], targets)
    report["funder_goals"] = described(report["funder_goals"], goals)
    report["matrix"] = [cell for cell in report["matrix"] if cell["funder_goal"] in goals]
    report["gaps"] = {
        "national_targets": list(report["gaps"]["national_targets"]),
        "funder_goals": [pk for pk in report["gaps"]["funder_goals"] if pk in goals],
    }
    report["programme"] = programme.pk if programme is not None else None
    report["as_of"] = as_of or timezone.localdate()
    return report


# Caching ------------------------------------------------------------------------------------


def report_version() -> str:
    """What a cached report depends on besides the user's scope, in one query. It changes when
    - a rollup or the alignment snapshot is requested or recomputed (every recompute stamps
      `computed_at`, even when it corrects nothing);
    - a result cell is requested (the fast path), so a report cached just before a result was
      approved does not keep saying that nothing is pending;
    - an indicator, programme, national target or funder goal is saved or deleted
      (`ReportContentVersion`): names, codes, units and programme dates are in the reports."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COALESCE(SUM(requested_version), 0) FROM {IndicatorRollupState._meta.db_table}), "
            f"(SELECT MAX(computed_at) FROM {IndicatorRollupState._meta.db_table}), "
            f"(SELECT MAX(requested_version) FROM {AlignmentSnapshot._meta.db_table}), "
            f"(SELECT MAX(computed_at) FROM {AlignmentSnapshot._meta.db_table}), "
            f"(SELECT MAX(id) FROM {RollupCellRequest._meta.db_table}), "
            f"(SELECT MAX(version) FROM {ReportContentVersion._meta.db_table})"
        )
        parts = cursor.fetchone()
    return "/".join(str(part) for part in parts)


def content_changed() -> None:
    """Move `report_version()` once the writer commits: something a report shows by name was
    saved or deleted. Once per transaction however many objects it wrote. After the commit, not
    inside the transaction: a counter row locked there would make writers of unrelated objects
    wait for each other, or deadlock. A report cached in between holds the new names under the
    old key, which is harmless."""
    # Already due from this savepoint or one around it: whatever discards that bump discards
    # this change too.
    open_savepoints = set(connection.savepoint_ids)
    if any(func is _bump_content_version and sids <= open_savepoints for sids, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_bump_content_version, robust=True)


def _bump_content_version() -> None:
    table = ReportContentVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, version) VALUES (1, 1) "
            f"ON CONFLICT (id) DO UPDATE SET version = {table}.version + 1"
        )


def cache_key(kind: str, access: Access, *parts: Any) -> str | None:
    """Key = report kind + the user's scope + language + parts + report version (None if unknown)."""
    try:
        version = report_version()
    except Exception:  # a key we cannot build just means no cache
        logger.warning("report version unavailable; report not cached", exc_info=True)
        return None
    raw = "|".join(map(str, (kind, access.scope_key, get_language(), *parts, version)))
    return "report:" + hashlib.sha256(raw.encode()).hexdigest()


# A small per-process layer in front of the shared cache: a hit costs no network round trip.
# Same keys (scope + rollup version), same lifetime; at most LOCAL_ENTRIES entries.
LOCAL_ENTRIES = 32
_local: OrderedDict[str, tuple[float, Any]] = OrderedDict()


def _local_get(key: str) -> Any:
    entry = _local.get(key)
    if entry is None:
        return None
    expires, value = entry
    if expires < time.monotonic():
        _local.pop(key, None)
        return None
    _local.move_to_end(key)
    return value


def _local_set(key: str, value: Any, timeout: int) -> None:
    _local[key] = (time.monotonic() + timeout, value)
    _local.move_to_end(key)
    while len(_local) > LOCAL_ENTRIES:
        _local.popitem(last=False)


def cached(key: str | None, compute: Callable[[], Any], timeout: int = CACHE_SECONDS) -> Any:
    """`compute()` through the cache; any cache failure (Redis down) falls back to computing."""
    if key is None:
        return compute()
    hit = _local_get(key)
    if hit is not None:
        return hit
    try:
        hit = cache.get(key)
    except Exception:  # the cache is an optimisation, never a reason to fail
        logger.warning("cache read failed for %s", key, exc_info=True)
        hit = None
    if hit is not None:
        _local_set(key, hit, timeout)
        return hit
    value = compute()
    _local_set(key, value, timeout)
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("cache write failed for %s", key, exc_info=True)
    return value


def clear_local_cache() -> None:
    _local.clear()


def plain(value: Any) -> Any:
    """Report data as JSON values: Decimal → string, dates → ISO strings."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    return value
