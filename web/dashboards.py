"""What the dashboards, the programme page (IPTT) and the municipality page show. Numbers come
from stored rollups and the alignment report over them (`rollups.alignment`); nothing here
recomputes a rollup. Every function runs a fixed number of queries.

The pages colour progress by its status to date (docs/design.md §4: against the targets of the
periods that have ended), with the life-of-programme figures beside it, and say so in a legend
(`templates/web/includes/legend.html`)."""

import hashlib
from collections import defaultdict
from functools import partial

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext_lazy as _

from indicators.models import FunderGoal, Indicator, NationalTarget, Result
from partners.models import Organisation
from projects.access import Access
from projects.models import Activity, Programme, Theme, Twinning, Workstream
from registry import selectors as registry_selectors
from reporting import reports
from rollups.alignment import compute_alignment, report_as_dict
from rollups.models import Rollup
from rollups.queue import latest_computed_at, pending_indicator_ids
from rollups.rollup_math import aligned_progress_status

from .charts import period_label as chart_period_label
from .charts import target_actual_chart
from .forms import page_date

# The order the pages list the statuses in: the coloured bands first, then what is not judged.
LEGEND_STATUSES = (
    Rollup.Status.BELOW,
    Rollup.Status.ON_TRACK,
    Rollup.Status.ABOVE,
    Rollup.Status.NO_TARGET,
    Rollup.Status.NO_DATA,
)
# The municipality overview counts the indicators in each band (life-of-programme rollups).
BAND_STATUSES = LEGEND_STATUSES[:3]


def freshness_for(indicator_ids) -> dict:
    ids = list(indicator_ids)
    return {"computed_at": latest_computed_at(ids), "pending": bool(pending_indicator_ids(ids))}


def period_label(start, end) -> str:
    if start is None:
        return ""
    return f"{date_format(start, 'M Y')} – {date_format(end, 'M Y')}"


# IPTT (programme page) ----------------------------------------------------------------------


def iptt_scopes(access: Access, programme: Programme, twinnings, workstreams, options) -> list[dict]:
    """Links to the IPTT of each scope it may be asked for on the page, keeping the other options:
    the programme, its twinnings, and the municipalities whose own rows the user sees (from the
    prefetched twinnings and workstreams, so no query)."""
    towns = {}
    for group in (*twinnings, *workstreams):
        for town in group.municipalities.all():
            if reports.sees_municipality_rows(access, programme, town.pk):
                towns[town.pk] = town
    choices = [(Rollup.Scope.PROGRAMME, None, _("Whole programme"))]
    choices += [(Rollup.Scope.TWINNING, twinning.pk, twinning.name) for twinning in twinnings]
    choices += [
        (Rollup.Scope.MUNICIPALITY, town.pk, town.name) for town in sorted(towns.values(), key=lambda t: t.name)
    ]
    kept = {}
    if options.as_of is not None:
        kept["as_of"] = options.as_of.isoformat()
    if options.disaggregated:
        kept["disaggregated"] = 1
    return [
        {
            "label": label,
            "query": urlencode({"scope": scope, "scope_id": scope_id, **kept} if scope_id else kept),
            "current": (scope, scope_id) == (options.scope, options.scope_id),
        }
        for scope, scope_id, label in choices
    ]


def iptt_page_options(access: Access, programme: Programme, params) -> tuple[reports.IPTTOptions, dict, str]:
    """The IPTT options the page was asked for, the errors to show beside the fields (the page then
    shows the programme's IPTT as of today), and the query string of the downloads. The date is
    typed as the page writes dates (`web.forms.page_date`); the report takes it as YYYY-MM-DD."""
    as_of, as_of_errors = page_date(params.get("as_of"))
    if as_of_errors:
        return reports.IPTTOptions(), {"as_of": as_of_errors}, urlencode({"programme": programme.pk})
    params = params.copy()
    params["as_of"] = as_of.isoformat() if as_of else ""
    try:
        options = reports.iptt_options(params)
    except ValidationError as error:
        return reports.IPTTOptions(), error.message_dict, urlencode({"programme": programme.pk})
    if not reports.iptt_scope_visible(access, programme, options):
        errors = {"scope_id": [_("Choose a twinning or a municipality of this programme.")]}
        return reports.IPTTOptions(), errors, urlencode({"programme": programme.pk})
    query = {"programme": programme.pk}
    if options.scope != Rollup.Scope.PROGRAMME:
        query.update(scope=options.scope, scope_id=options.scope_id)
    if options.as_of is not None:
        query["as_of"] = options.as_of.isoformat()
    if options.disaggregated:
        query["disaggregated"] = 1
    return options, {}, urlencode(query)


def iptt_page(access: Access, programme: Programme, params, *, twinnings, workstreams) -> dict:
    """The programme page's IPTT as asked by its query string (scope, as_of, disaggregated), links
    to the other scopes, the errors of what was asked, and the downloads' query string."""
    options, errors, query = iptt_page_options(access, programme, params)
    return {
        **iptt_context(access, programme, options),
        "iptt_scopes": iptt_scopes(access, programme, twinnings, workstreams, options),
        "iptt_errors": errors,
        "iptt_query": query,
    }


def iptt_context(access: Access, programme: Programme, options: reports.IPTTOptions | None = None) -> dict:
    """The IPTT of `reporting.reports` (the same rows as the API's CSV/XLSX), cached per scope."""
    options = options or reports.IPTTOptions()
    report = reports.cached(
        reports.cache_key("iptt", access, programme.pk, *options.cache_parts),
        lambda: reports.iptt(programme=programme, access=access, options=options),
    )
    # The page shows the periods that have a target or an actual (the downloads keep every period
    # of the programme's life, which for a long programme of monthly indicators is hundreds).
    filled = {
        (p["period_start"], p["period_end"])
        for row in report["rows"]
        for p in row["periods"]
        if p["target"] is not None or p["actual"] is not None
    }
    columns = [column for column in reports.iptt_columns(report) if column in filled]
    rows = []
    for row in report["rows"]:
        cells = {(p["period_start"], p["period_end"]): p for p in row["periods"]}
        rows.append({**row, "cells": [cells.get(column) for column in columns]})
    return {
        "iptt_columns": [{"start": s, "end": e, "label": period_label(s, e)} for s, e in columns],
        "iptt_rows": rows,
        "iptt_as_of": report["as_of"],
        "iptt_options": options,
        "freshness": {"computed_at": report["computed_at"], "pending": report["pending"]},
    }


# Municipality page --------------------------------------------------------------------------


def municipality_results_context(access: Access, municipality: Organisation, programmes: list[Programme]) -> dict:
    programme_ids = [p.pk for p in programmes]
    indicators = list(
        Indicator.objects.filter(programme_id__in=programme_ids)
        .select_related("programme")
        .order_by("programme__code", "code")
    )
    lop = {
        r.indicator_id: r
        for r in Rollup.objects.filter(
            indicator__in=[i.pk for i in indicators],
            scope=Rollup.Scope.MUNICIPALITY,
            scope_id=municipality.pk,
            period_start__isnull=True,
            disaggregation_category="",
        ).filter(access.rollup_filter())
    }
    recent = list(
        Result.objects.filter(access.result_filter(), municipality=municipality, disaggregation_category="")
        .select_related("indicator__programme")
        .order_by("-period_start", "indicator__code")[:30]
    )
    return {
        "indicator_rows": [{"indicator": i, "lop": lop.get(i.pk)} for i in indicators],
        "recent_results": recent,
        "freshness": freshness_for(i.pk for i in indicators),
    }


# Ministry dashboard -------------------------------------------------------------------------


def _names(model, ids) -> dict:
    return {obj.pk: obj for obj in model.objects.filter(pk__in=set(ids))}


def ministry_context(access: Access) -> dict:
    report = reports.alignment(access=access)
    national = report["national_targets"]
    goals_rows = report["funder_goals"]
    programme_ids, donor_ids, municipality_ids = set(), set(), set()
    for row in national:
        programme_ids.update(row["programmes"])
        donor_ids.update(row["donors"])
    for overlap in report["overlaps"]:
        programme_ids.update(overlap["programmes"])
        donor_ids.update(overlap["donors"])
        municipality_ids.add(overlap["municipality"])
    programmes = _names(Programme, programme_ids)
    organisations = _names(Organisation, donor_ids | municipality_ids)
    targets = {t.pk: t for t in NationalTarget.objects.all()}
    goal_ids = {row["id"] for row in goals_rows} | set(report["gaps"]["funder_goals"])
    goal_ids |= {cell["funder_goal"] for cell in report["matrix"]}
    goals = {g.pk: g for g in FunderGoal.objects.filter(pk__in=goal_ids).select_related("donor")}
    themes = _names(Theme, {o["theme"] for o in report["overlaps"]})

    national_rows = []
    for row in national:
        target = targets.get(row["id"])
        if target is None:
            continue
        national_rows.append(
            {
                "target": target,
                "progress": row["progress"],
                "status": aligned_progress_status(row["progress"]),
                "progress_to_date": row["progress_to_date"],
                "status_to_date": aligned_progress_status(row["progress_to_date"]),
                "indicator_count": len(row["indicators"]),
                "not_measurable": len(row["not_measurable"]),
                "programmes": [programmes[i] for i in row["programmes"] if i in programmes],
                "donors": [organisations[i] for i in row["donors"] if i in organisations],
            }
        )
    listed = {r["target"].pk for r in national_rows}
    national_rows += [
        {
            "target": t,
            "progress": None,
            "status": Rollup.Status.NO_DATA,
            "progress_to_date": None,
            "status_to_date": Rollup.Status.NO_DATA,
            "indicator_count": 0,
            "not_measurable": 0,
            "programmes": [],
            "donors": [],
        }
        for pk, t in sorted(targets.items(), key=lambda item: item[1].code)
        if pk not in listed
    ]
    national_rows.sort(key=lambda r: r["target"].code)

    matrix_goals = sorted(
        {cell["funder_goal"] for cell in report["matrix"]},
        key=lambda pk: (goals[pk].donor.name, goals[pk].code) if pk in goals else ("", ""),
    )
    matrix_targets = sorted(
        {cell["national_target"] for cell in report["matrix"]}, key=lambda pk: targets[pk].code if pk in targets else ""
    )
    cells = {(c["national_target"], c["funder_goal"]): c for c in report["matrix"]}
    matrix = {
        "goals": [goals[pk] for pk in matrix_goals if pk in goals],
        "rows": [
            {
                "target": targets[t],
                "cells": [
                    {
                        "cell": cells.get((t, g)),
                        "status": aligned_progress_status((cells.get((t, g)) or {}).get("progress")),
                        "status_to_date": aligned_progress_status((cells.get((t, g)) or {}).get("progress_to_date")),
                    }
                    for g in matrix_goals
                    if g in goals
                ],
            }
            for t in matrix_targets
            if t in targets
        ],
    }
    overlaps = [
        {
            "municipality": organisations.get(o["municipality"]),
            "theme": themes.get(o["theme"]),
            "programmes": [programmes[i] for i in o["programmes"] if i in programmes],
            "donors": [organisations[i] for i in o["donors"] if i in organisations],
        }
        for o in report["overlaps"]
    ]
    return {
        "national_rows": national_rows,
        "gap_targets": [targets[i] for i in report["gaps"]["national_targets"] if i in targets],
        "gap_goals": [goals[i] for i in report["gaps"]["funder_goals"] if i in goals],
        "overlaps": overlaps,
        "matrix": matrix,
        "municipality_overview": municipality_overview(),
        "band_statuses": BAND_STATUSES,
        "freshness": {"computed_at": report["computed_at"], "pending": report["pending"]},
        "registry": registry_overlap_context(),
    }


def municipality_overview() -> list[dict]:
    """Every municipality taking part in some programme: programmes, activities, results waiting
    for approval, and its indicators by status to date (municipality life-of-programme rollups)."""
    municipalities = list(
        Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY)
        .filter(Q(twinnings__isnull=False) | Q(workstreams__isnull=False))
        .distinct()
        .order_by("country", "name")
    )
    ids = [m.pk for m in municipalities]
    programmes: dict[int, set[int]] = defaultdict(set)
    for model, path in ((Twinning, "twinning"), (Workstream, "workstream")):
        for organisation_id, programme_id in model.municipalities.through.objects.filter(
            organisation_id__in=ids
        ).values_list("organisation_id", f"{path}__programme_id"):
            programmes[organisation_id].add(programme_id)
    activities = dict(
        Activity.objects.filter(municipality_id__in=ids)
        .order_by()
        .values("municipality_id")
        .annotate(n=Count("id"))
        .values_list("municipality_id", "n")
    )
    # Only the queue is counted from raw results (few rows, on the status index); progress comes
    # from the stored municipality rollups below.
    waiting = dict(
        Result.objects.filter(status=Result.Status.SUBMITTED, disaggregation_category="", municipality_id__in=ids)
        .order_by()
        .values("municipality_id")
        .annotate(n=Count("id"))
        .values_list("municipality_id", "n")
    )
    statuses: dict[int, dict[str, int]] = defaultdict(dict)
    for scope_id, status, n in (
        Rollup.objects.filter(
            scope=Rollup.Scope.MUNICIPALITY, scope_id__in=ids, period_start__isnull=True, disaggregation_category=""
        )
        .order_by()
        .values("scope_id", "status_to_date")
        .annotate(n=Count("*"))  # not Count("id"): the count is read from rollup_lop_status_idx alone
        .values_list("scope_id", "status_to_date", "n")
    ):
        statuses[scope_id][status] = n
    return [
        {
            "municipality": m,
            "programmes": len(programmes[m.pk]),
            "activities": activities.get(m.pk, 0),
            "submitted": waiting.get(m.pk, 0),
            "band_counts": [statuses[m.pk].get(status, 0) for status in BAND_STATUSES],
        }
        for m in municipalities
    ]


# Donor dashboard ----------------------------------------------------------------------------


def donor_alignment(programme_ids: list[int]) -> dict:
    """The docs/design.md §5 report over the donor's visible programmes, cached until the report version moves."""
    raw = f"{reports.report_version()}:{','.join(map(str, sorted(programme_ids)))}"
    key = "web:alignment:" + hashlib.sha256(raw.encode()).hexdigest()
    return reports.cached(key, lambda: report_as_dict(compute_alignment(programme_ids)))


def donor_context(access: Access, donor: Organisation, programme_id: int | None = None) -> dict:
    programmes = list(
        access.programmes(Programme.objects.filter(donors=donor).select_related("implementer"))
        .prefetch_related("donors")
        .order_by("code")
    )
    programme_ids = [p.pk for p in programmes]
    report = donor_alignment(programme_ids)
    goal_progress = {row["id"]: row for row in report["funder_goals"]}
    goals = list(FunderGoal.objects.filter(donor=donor).order_by("code"))
    children: dict[int | None, list[FunderGoal]] = defaultdict(list)
    for goal in goals:
        children[goal.parent_id].append(goal)

    def tree(parent_id):
        nodes = []
        for goal in children.get(parent_id, []):
            row = goal_progress.get(goal.pk) or {}
            nodes.append(
                {
                    "goal": goal,
                    "progress": row.get("progress"),
                    "status": aligned_progress_status(row.get("progress")),
                    "progress_to_date": row.get("progress_to_date"),
                    "status_to_date": aligned_progress_status(row.get("progress_to_date")),
                    "indicator_count": len(row.get("indicators", [])),
                    "children": tree(goal.pk),
                }
            )
        return nodes

    indicators = list(
        Indicator.objects.filter(programme_id__in=programme_ids)
        .select_related("programme")
        .order_by("programme__code", "code")
    )
    lop = {
        r.indicator_id: r
        for r in Rollup.objects.filter(
            indicator_id__in=[i.pk for i in indicators],
            scope=Rollup.Scope.PROGRAMME,
            period_start__isnull=True,
            disaggregation_category="",
        )
    }
    indicator_rows = [{"indicator": i, "lop": lop.get(i.pk)} for i in indicators]
    status_counts = defaultdict(int)
    for row in indicator_rows:
        status_counts[row["lop"].status_to_date if row["lop"] else Rollup.Status.NO_TARGET] += 1

    charts = donor_charts([i for i in indicators if i.programme_id == (programme_id or (programme_ids or [None])[0])])
    return {
        "donor": donor,
        "programmes": programmes,
        "chart_programme": next((p for p in programmes if p.pk == programme_id), programmes[0] if programmes else None),
        "goal_tree": tree(None),
        "indicator_rows": indicator_rows,
        "status_counts": [(status, status_counts[status]) for status in LEGEND_STATUSES],
        "charts": charts,
        "freshness": {"computed_at": report["computed_at"], "pending": report["pending"]},
    }


def donor_charts(indicators: list[Indicator]) -> list[dict]:
    """Per indicator, target against actual by period at programme scope (one query)."""
    by_indicator: dict[int, list[Rollup]] = defaultdict(list)
    for rollup in Rollup.objects.filter(
        indicator_id__in=[i.pk for i in indicators],
        scope=Rollup.Scope.PROGRAMME,
        period_start__isnull=False,
        disaggregation_category="",
    ).order_by("indicator_id", "period_start"):
        by_indicator[rollup.indicator_id].append(rollup)
    rtl = get_language_bidi()
    charts = []
    for indicator in indicators:
        rollups = by_indicator.get(indicator.pk, [])
        name = partial(
            chart_period_label,
            frequency=indicator.frequency,
            fiscal_year_start_month=indicator.programme.fiscal_year_start_month,
        )
        points = [(name(r.period_start, r.period_end), r.target, r.actual, r.status) for r in rollups]
        charts.append({"indicator": indicator, "chart": target_actual_chart(points, rtl=rtl), "rollups": rollups})
    return charts


# Ministry dashboard: the aid registry -------------------------------------------------------


def registry_overlap_context() -> dict:
    """The overlap section's registry block: every intervention the ministry knows of (IATI files
    and programmes), the pairs waiting for review and the confirmed duplicates (four queries)."""
    return registry_selectors.dashboard_summary()
