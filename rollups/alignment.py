"""The alignment report (docs/design.md §5) over stored rollups, for any set of programmes.

`compute_alignment(programme_ids)` reads what it needs in a fixed number of set-based queries
(indicators, their LoP programme-total rollups, alignments, goals, donors, contributing
municipalities from the municipality LoP rollups, workstreams) and applies the pure rules of
`rollup_math.alignment_report`. The API calls it with the programmes a user may see (a donor's
report counts only those) and may cache it under `reports.report_version()`.

`store_global_snapshot()` writes the report over every programme (what the ministry sees) into
the `AlignmentSnapshot` tables; the rollup tasks run it after the indicator recomputes it depends
on, and the nightly reconcile runs it too. `stored_global_report()` reads it back.

Beside the LoP progress of §5, every national target, funder goal and matrix cell has its progress
to date: the same rule over π to date = min(percent_to_date, 100) (docs/design.md §4). Stored
reports take the percent to date stored on the LoP rows (as of today); a report asked as of another
date computes it from the stored period rows (`rollup_math.progress_to_date`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from common.locks import ALIGNMENT_SNAPSHOT_LOCK
from indicators.models import Alignment, FunderGoal, Indicator, NationalTarget
from projects.models import Programme, Workstream
from rollups import rollup_math
from rollups.models import (
    AlignmentMatrixCell,
    AlignmentOverlap,
    AlignmentSnapshot,
    FunderGoalProgress,
    NationalTargetProgress,
    Rollup,
)
from rollups.queue import latest_computed_at, pending_indicator_ids

ALIGNMENT_LOCK = tuple(int(part) for part in ALIGNMENT_SNAPSHOT_LOCK)


@dataclass
class AlignmentResult:
    """The §5 report plus freshness: computed_at of the newest rollup used, pending recomputes."""

    report: rollup_math.AlignmentReport
    computed_at: datetime | None
    pending: bool


def compute_alignment(programme_ids: Iterable[int] | None = None, *, as_of: date | None = None) -> AlignmentResult:
    """The §5 report restricted to these programmes (None = every programme).

    National targets are always all listed (they are public); funder goals too (the caller
    filters the goals a user may see). Only indicators of the given programmes count. Progress to
    date is the stored one (as of today), or with `as_of` computed for that date from the stored
    period rows (one more query).
    """
    programmes = Programme.objects.all()
    indicators = Indicator.objects.all()
    if programme_ids is not None:
        programme_ids = list(programme_ids)
        programmes = programmes.filter(id__in=programme_ids)
        indicators = indicators.filter(programme_id__in=programme_ids)
    definitions = {
        row[0]: row[1:]
        for row in indicators.values_list("id", "programme_id", "measure", "time_aggregation", "direction")
    }
    indicator_programme = {indicator_id: row[0] for indicator_id, row in definitions.items()}
    indicator_subquery = indicators.values("id")

    lop_totals = Rollup.objects.filter(
        indicator_id__in=indicator_subquery,
        scope=Rollup.Scope.PROGRAMME,
        period_start__isnull=True,
        disaggregation_category="",
    )
    lop_percent, percent_to_date = {}, {}
    for indicator_id, percent, stored_to_date in lop_totals.values_list(
        "indicator_id", "percent_of_target", "percent_to_date"
    ):
        lop_percent[indicator_id] = percent
        percent_to_date[indicator_id] = stored_to_date
    if as_of is not None:
        percent_to_date = _percent_to_date_as_of(indicator_subquery, definitions, as_of)

    contributing = Rollup.objects.filter(
        indicator_id__in=indicator_subquery,
        scope=Rollup.Scope.MUNICIPALITY,
        period_start__isnull=True,
        disaggregation_category="",
        actual__isnull=False,
    ).values_list("indicator_id", "scope_id")
    indicator_municipalities: dict[int, set[int]] = defaultdict(set)
    for indicator_id, municipality_id in contributing:
        indicator_municipalities[indicator_id].add(municipality_id)

    national_alignments, goal_alignments = [], []
    for indicator_id, national_target_id, funder_goal_id, weight in Alignment.objects.filter(
        indicator_id__in=indicator_subquery
    ).values_list("indicator_id", "national_target_id", "funder_goal_id", "weight"):
        if national_target_id is not None:
            national_alignments.append((indicator_id, national_target_id, weight))
        else:
            goal_alignments.append((indicator_id, funder_goal_id, weight))

    programme_facts = {row["id"]: row for row in programmes.values("id", "start_date", "end_date")}
    donors: dict[int, set[int]] = defaultdict(set)
    for programme_id, donor_id in Programme.donors.through.objects.filter(
        programme_id__in=list(programme_facts)
    ).values_list("programme_id", "organisation_id"):
        donors[programme_id].add(donor_id)

    footprints: dict[int, tuple[int, int, set[int]]] = {
        workstream_id: (programme_id, theme_id, set())
        for workstream_id, programme_id, theme_id in Workstream.objects.filter(
            programme_id__in=list(programme_facts)
        ).values_list("id", "programme_id", "theme_id")
    }
    for workstream_id, municipality_id in Workstream.municipalities.through.objects.filter(
        workstream_id__in=list(footprints)
    ).values_list("workstream_id", "organisation_id"):
        footprints[workstream_id][2].add(municipality_id)

    inputs = rollup_math.AlignmentInputs(
        lop_percent=lop_percent,
        percent_to_date=percent_to_date,
        indicator_programme=indicator_programme,
        national_alignments=national_alignments,
        goal_alignments=goal_alignments,
        national_target_ids=list(NationalTarget.objects.values_list("id", flat=True)),
        goal_parent=dict(FunderGoal.objects.values_list("id", "parent_id")),
        programme_donors={pid: frozenset(ids) for pid, ids in donors.items()},
        indicator_municipalities={iid: frozenset(ids) for iid, ids in indicator_municipalities.items()},
        workstreams=[
            rollup_math.WorkstreamFootprint(programme_id, theme_id, frozenset(municipalities))
            for programme_id, theme_id, municipalities in footprints.values()
        ],
        programmes={
            pid: rollup_math.ProgrammeFacts(row["start_date"], row["end_date"], frozenset(donors.get(pid, ())))
            for pid, row in programme_facts.items()
        },
    )
    report = rollup_math.alignment_report(inputs)
    ids = list(indicator_programme)
    pending = bool(pending_indicator_ids(ids)) if programme_ids is not None else bool(pending_indicator_ids())
    return AlignmentResult(report=report, computed_at=latest_computed_at(ids), pending=pending)


def _percent_to_date_as_of(indicator_subquery, definitions: dict[int, tuple], as_of: date) -> dict[int, Decimal | None]:
    """Each indicator's percent to date at programme scope (total) as of `as_of`, from its stored
    period rows: one query, then the pure rule per indicator."""
    periods: dict[int, list[rollup_math.PeriodRow]] = defaultdict(list)
    for indicator_id, start, end, target, actual in Rollup.objects.filter(
        indicator_id__in=indicator_subquery,
        scope=Rollup.Scope.PROGRAMME,
        period_start__isnull=False,
        disaggregation_category="",
    ).values_list("indicator_id", "period_start", "period_end", "target", "actual"):
        periods[indicator_id].append(rollup_math.PeriodRow(start, end, target, actual))
    return {
        indicator_id: rollup_math.progress_to_date(
            measure, aggregation, direction, periods.get(indicator_id, ()), as_of
        ).percent_of_target
        for indicator_id, (_programme, measure, aggregation, direction) in definitions.items()
    }


def store_global_snapshot(*, only_if_stale: bool = True) -> tuple[bool, float]:
    """Recompute the every-programme report and replace the stored snapshot; returns whether it
    was written and the seconds it took.

    Serialised by an advisory lock (PostgreSQL). With `only_if_stale` (the rollup tasks) it skips
    when nothing was requested since the last snapshot; without it (reconcile, commands) it always
    writes. Records the requested version it saw before computing.
    """
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(ALIGNMENT_LOCK))
        snapshot, _ = AlignmentSnapshot.objects.get_or_create(pk=1)
        if only_if_stale and snapshot.computed_at is not None and not snapshot.pending:
            return False, time.perf_counter() - started
        _write_snapshot(snapshot)
    return True, time.perf_counter() - started


def force_global_snapshot() -> float:
    """Recompute and store the every-programme report whatever its state; returns the seconds."""
    _written, seconds = store_global_snapshot(only_if_stale=False)
    return seconds


def _write_snapshot(snapshot: AlignmentSnapshot) -> None:
    seen_version = snapshot.requested_version
    result = compute_alignment(None)
    report = result.report
    now = timezone.now()
    national_gaps = set(report.gap_national_targets)
    goal_gaps = set(report.gap_funder_goals)
    NationalTargetProgress.objects.all().delete()
    FunderGoalProgress.objects.all().delete()
    AlignmentMatrixCell.objects.all().delete()
    AlignmentOverlap.objects.all().delete()
    NationalTargetProgress.objects.bulk_create(
        [
            NationalTargetProgress(
                national_target_id=item.id, is_gap=item.id in national_gaps, computed_at=now, **_progress_fields(item)
            )
            for item in report.national_targets
        ]
    )
    FunderGoalProgress.objects.bulk_create(
        [
            FunderGoalProgress(
                funder_goal_id=item.id, is_gap=item.id in goal_gaps, computed_at=now, **_progress_fields(item)
            )
            for item in report.funder_goals
        ]
    )
    AlignmentMatrixCell.objects.bulk_create(
        [
            AlignmentMatrixCell(
                national_target_id=cell.national_target,
                funder_goal_id=cell.funder_goal,
                progress=rollup_math.round_percent(cell.progress),
                progress_to_date=rollup_math.round_percent(cell.progress_to_date),
                indicators=cell.indicators,
                programmes=cell.programmes,
                donors=cell.donors,
                municipalities=cell.municipalities,
                computed_at=now,
            )
            for cell in report.matrix
        ],
        batch_size=1000,
    )
    AlignmentOverlap.objects.bulk_create(
        [
            AlignmentOverlap(
                municipality_id=overlap.municipality_id,
                theme_id=overlap.theme_id,
                programmes=list(overlap.programme_ids),
                donors=list(overlap.donor_ids),
                computed_at=now,
            )
            for overlap in report.overlaps
        ],
        batch_size=1000,
    )
    AlignmentSnapshot.objects.filter(pk=snapshot.pk).update(computed_version=seen_version, computed_at=now)
    AlignmentSnapshot.objects.filter(pk=snapshot.pk, requested_version__lte=seen_version).update(dirty_since=None)


def _progress_fields(item: rollup_math.TargetProgress) -> dict:
    return {
        "progress": rollup_math.round_percent(item.progress),
        "progress_to_date": rollup_math.round_percent(item.progress_to_date),
        "indicators": item.indicators,
        "not_measurable": item.not_measurable,
        "programmes": item.programmes,
        "donors": item.donors,
        "municipalities": item.municipalities,
    }


def stored_global_report() -> dict:
    """The stored every-programme snapshot as plain data (ids, Decimal), shaped like docs/design.md §6
    `reports/alignment/`. `pending` is true while the snapshot or any indicator is stale."""
    snapshot = AlignmentSnapshot.objects.filter(pk=1).first()

    def progress_rows(queryset, key):
        return [
            {
                "id": getattr(row, key),
                "progress": row.progress,
                "progress_to_date": row.progress_to_date,
                "indicators": row.indicators,
                "not_measurable": row.not_measurable,
                "programmes": row.programmes,
                "donors": row.donors,
                "municipalities": row.municipalities,
            }
            for row in queryset.order_by(key)
        ]

    national = progress_rows(NationalTargetProgress.objects.all(), "national_target_id")
    goals = progress_rows(FunderGoalProgress.objects.all(), "funder_goal_id")
    return {
        "national_targets": national,
        "funder_goals": goals,
        "matrix": [
            {
                "national_target": cell.national_target_id,
                "funder_goal": cell.funder_goal_id,
                "progress": cell.progress,
                "progress_to_date": cell.progress_to_date,
                "indicators": cell.indicators,
            }
            for cell in AlignmentMatrixCell.objects.order_by("national_target_id", "funder_goal_id")
        ],
        "gaps": {
            "national_targets": list(
                NationalTargetProgress.objects.filter(is_gap=True)
                .order_by("national_target_id")
                .values_list("national_target_id", flat=True)
            ),
            "funder_goals": list(
                FunderGoalProgress.objects.filter(is_gap=True)
                .order_by("funder_goal_id")
                .values_list("funder_goal_id", flat=True)
            ),
        },
        "overlaps": [
            {
                "municipality": row.municipality_id,
                "theme": row.theme_id,
                "programmes": row.programmes,
                "donors": row.donors,
            }
            for row in AlignmentOverlap.objects.order_by("municipality_id", "theme_id")
        ],
        "computed_at": snapshot.computed_at if snapshot else None,
        "pending": (snapshot is None or snapshot.pending or snapshot.computed_at is None)
        or bool(pending_indicator_ids()),
    }


def report_as_dict(result: AlignmentResult) -> dict:
    """A computed report in the same shape as `stored_global_report` (progress rounded to 2 places)."""
    report = result.report

    def rows(items):
        return [
            {
                "id": item.id,
                "progress": rollup_math.round_percent(item.progress),
                "progress_to_date": rollup_math.round_percent(item.progress_to_date),
                "indicators": item.indicators,
                "not_measurable": item.not_measurable,
                "programmes": item.programmes,
                "donors": item.donors,
                "municipalities": item.municipalities,
            }
            for item in items
        ]

    return {
        "national_targets": rows(report.national_targets),
        "funder_goals": rows(report.funder_goals),
        "matrix": [
            {
                "national_target": cell.national_target,
                "funder_goal": cell.funder_goal,
                "progress": rollup_math.round_percent(cell.progress),
                "progress_to_date": rollup_math.round_percent(cell.progress_to_date),
                "indicators": cell.indicators,
            }
            for cell in report.matrix
        ],
        "gaps": {"national_targets": report.gap_national_targets, "funder_goals": report.gap_funder_goals},
        "overlaps": [
            {
                "municipality": overlap.municipality_id,
                "theme": overlap.theme_id,
                "programmes": list(overlap.programme_ids),
                "donors": list(overlap.donor_ids),
            }
            for overlap in report.overlaps
        ],
        "computed_at": result.computed_at,
        "pending": result.pending,
    }
