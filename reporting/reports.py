"""Reports read from stored rollups (docs/design.md §4–§6), shared by the API and the pages.

`iptt(programme=, access=)` — the Indicator Performance Tracking Table of one programme: one row
per indicator with its baseline, each period's target / actual / % of target / status, and the
life-of-programme (LoP) figures, all at programme scope and for the total. A fixed number of
queries whatever the size of the programme.

`alignment(access=, programme=None)` — the §5 alignment report over the programmes the user sees
(or one of them), funder goals limited to those the user may see.

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
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import get_language

from indicators import periods
from indicators.models import FunderGoal, Indicator, NationalTarget
from projects.access import Access
from projects.models import Programme
from rollups.alignment import compute_alignment, report_as_dict, stored_global_report
from rollups.models import AlignmentSnapshot, IndicatorRollupState, Rollup, RollupCellRequest
from rollups.queue import latest_computed_at, pending_indicator_ids

from .models import ReportContentVersion

logger = logging.getLogger(__name__)
CACHE_SECONDS = 300


# IPTT ---------------------------------------------------------------------------------------


def iptt(*, programme: Programme, access: Access) -> dict[str, Any]:
    """The IPTT of a programme the user sees (the caller checks `access.sees_programme`)."""
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
            "lop_target",
        )
    )
    ids = [indicator.pk for indicator in indicators]
    cells: dict[int, dict[tuple | None, Rollup]] = {pk: {} for pk in ids}
    rollups = (
        Rollup.objects.filter(
            indicator__programme=programme,
            scope=Rollup.Scope.PROGRAMME,
            scope_id=programme.pk,
            disaggregation_category="",
        )
        .filter(access.rollup_filter())
        .only("indicator_id", "period_start", "period_end", "actual", "target", "percent_of_target", "status")
    )
    for rollup in rollups:
        key = None if rollup.period_start is None else (rollup.period_start, rollup.period_end)
        cells.setdefault(rollup.indicator_id, {})[key] = rollup
    rows = []
    for indicator in indicators:
        own = cells.get(indicator.pk, {})
        spans = periods.periods_between(
            programme.start_date, programme.end_date, indicator.frequency, programme.fiscal_year_start_month
        )
        spans = sorted(set(spans) | {key for key in own if key is not None})
        lop = own.get(None)
        rows.append(
            {
                "indicator": indicator.pk,
                "code": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "direction": indicator.direction,
                "measure": indicator.measure,
                "frequency": indicator.frequency,
                "baseline_value": indicator.baseline_value,
                "periods": [_period_cell(start, end, own.get((start, end))) for start, end in spans],
                "lop_target": lop.target if lop else indicator.lop_target,
                "lop_actual": lop.actual if lop else None,
                "lop_percent_of_target": lop.percent_of_target if lop else None,
                "lop_status": lop.status if lop else Rollup.Status.NO_DATA,
            }
        )
    return {
        "programme": programme.pk,
        "code": programme.code,
        "name": programme.name,
        "rows": rows,
        "computed_at": latest_computed_at(ids) if ids else None,
        "pending": bool(pending_indicator_ids(ids)) if ids else False,
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


def iptt_columns(report: dict[str, Any]) -> list[tuple[datetime.date, datetime.date]]:
    """Every period any row has, in order: the columns of a flat (CSV, XLSX, HTML) table."""
    found = {(p["period_start"], p["period_end"]) for row in report["rows"] for p in row["periods"]}
    return sorted(found)


# Alignment ----------------------------------------------------------------------------------


def alignment(*, access: Access, programme: Programme | None = None) -> dict[str, Any]:
    """The §5 report over what the user sees; `programme` (already checked visible) narrows it."""
    if programme is None and access.sees_everything:
        report = stored_global_report()
        if report["computed_at"] is None:  # never stored yet: compute it live
            report = report_as_dict(compute_alignment(None))
    else:
        ids = [programme.pk] if programme is not None else sorted(access.programme_ids or ())
        report = report_as_dict(compute_alignment(ids))
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
