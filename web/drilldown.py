"""Drill-down pages: a national target or a funder goal → its indicators, with what each programme
and each donor contributes to its progress → an indicator's own page (definition, targets and
actuals by period and by municipality, disaggregations, evidence, history, alignments); and the
trends (progress to date over the periods so far) that the dashboards draw as sparklines.

Numbers come from stored rollups (docs/design.md §4) and the §5 rules of `rollups.rollup_math`
applied to them, over the programmes the user sees, so a donor's page counts what the donor's
alignment report counts. Every page runs a fixed number of queries, whatever the number of
indicators, results or periods.

A contribution splits an aligned progress Σ w·π / Σ w into the share of each programme:
Σ w·π over the programme's indicators, divided by the same Σ w. The programmes' contributions add
up to the progress; a donor's contribution is that of the programmes it funds, so a programme
with two donors counts for each of them.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, partial

from django.contrib.auth.decorators import login_required
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext_lazy as _
from modeltranslation.translator import translator

from indicators.models import Alignment, FunderGoal, Indicator, NationalTarget, Result
from indicators.services import INDICATOR_FIELDS
from partners.models import Organisation
from projects.access import Access, access_for
from reporting.reports import sees_municipality_rows
from rollups import rollup_math
from rollups.models import Rollup

from . import charts, selectors
from .dashboards import freshness_for
from .templatetags.twinning_web import num

# The trends beside each row of the dashboards: the last periods only, so a row stays narrow.
SPARKLINE_PERIODS = 8
# The newest evidence links and changes an indicator's page lists.
EVIDENCE_LIMIT = 50
HISTORY_LIMIT = 20
# The indicator's own changes are shown field by field: its definition, not its bookkeeping.
TRANSLATED_INDICATOR_FIELDS = set(translator.get_options_for_model(Indicator).fields)
# What the indicator services let one change, less the workstream (an organising choice).
INDICATOR_HISTORY_FIELDS = tuple(name for name in INDICATOR_FIELDS if name != "workstream")


# Aligned progress and contributions ---------------------------------------------------------


@dataclass
class AlignedIndicator:
    """One indicator counted towards a national target or a funder goal."""

    indicator: Indicator
    weight: Decimal
    lop: Rollup | None
    donors: list[Organisation]

    @property
    def progress(self) -> Decimal | None:
        """π (docs/design.md §5): the LoP percent of target, at most 100."""
        return rollup_math.indicator_progress(self.lop.percent_of_target if self.lop else None)

    @property
    def progress_to_date(self) -> Decimal | None:
        return rollup_math.indicator_progress(self.lop.percent_to_date if self.lop else None)


@dataclass
class Contribution:
    """What one programme (or one donor's programmes) adds to an aligned progress."""

    subject: object
    indicators: list[AlignedIndicator] = field(default_factory=list)
    progress: Decimal | None = None
    contribution: Decimal | None = None
    progress_to_date: Decimal | None = None
    contribution_to_date: Decimal | None = None

    @property
    def weight(self) -> Decimal:
        return sum((row.weight for row in self.indicators), Decimal(0))

    @property
    def status(self) -> str:
        return rollup_math.aligned_progress_status(self.progress)

    @property
    def status_to_date(self) -> str:
        return rollup_math.aligned_progress_status(self.progress_to_date)


def _share(rows: list[AlignedIndicator], measure, total_weight: Decimal) -> Decimal | None:
    """Σ w·π over these rows divided by the weight of every measurable indicator of the target."""
    pairs = [(row.weight, measure(row)) for row in rows if measure(row) is not None]
    if not pairs or not total_weight:
        return None
    return rollup_math.divide(sum((weight * pi for weight, pi in pairs), Decimal(0)), total_weight)


def contributions(rows: list[AlignedIndicator], subjects_of) -> list[Contribution]:
    """The contribution of each subject (`subjects_of(row)` lists a row's programmes or donors),
    to date and over the life of the programme, in the order the subjects first appear."""
    lop_weight = sum((row.weight for row in rows if row.progress is not None), Decimal(0))
    to_date_weight = sum((row.weight for row in rows if row.progress_to_date is not None), Decimal(0))
    groups: dict[int, Contribution] = {}
    for row in rows:
        for subject in subjects_of(row):
            groups.setdefault(subject.pk, Contribution(subject)).indicators.append(row)

    def lop(row):
        return row.progress

    def to_date(row):
        return row.progress_to_date

    for group in groups.values():
        group.progress = rollup_math.weighted_progress((row.weight, row.progress) for row in group.indicators)
        group.progress_to_date = rollup_math.weighted_progress(
            (row.weight, row.progress_to_date) for row in group.indicators
        )
        group.contribution = _share(group.indicators, lop, lop_weight)
        group.contribution_to_date = _share(group.indicators, to_date, to_date_weight)
    return list(groups.values())


def aligned_context(access: Access, weights: dict[int, Decimal], *, fiscal_year_start_month: int | None) -> dict:
    """What a national target's or a funder goal's page shows of its indicators (`weights`:
    indicator id → alignment weight), over the programmes the user sees: each indicator's
    progress, the aligned progress, the contributions by programme and by donor, and the trend,
    its quarters named after `fiscal_year_start_month` (None: the one most of the indicators'
    programmes follow)."""
    indicators = list(
        access.scoped(Indicator.objects.filter(pk__in=list(weights)), "programme")
        .select_related("programme")
        .prefetch_related("programme__donors")
        .order_by("programme__code", "code")
    )
    ids = [indicator.pk for indicator in indicators]
    lop = {
        row.indicator_id: row
        for row in Rollup.objects.filter(
            indicator_id__in=ids, scope=Rollup.Scope.PROGRAMME, period_start__isnull=True, disaggregation_category=""
        )
    }
    rows = [
        AlignedIndicator(
            indicator=indicator,
            weight=weights[indicator.pk],
            lop=lop.get(indicator.pk),
            donors=sorted(indicator.programme.donors.all(), key=lambda donor: donor.name),
        )
        for indicator in indicators
    ]
    progress = rollup_math.weighted_progress((row.weight, row.progress) for row in rows)
    progress_to_date = rollup_math.weighted_progress((row.weight, row.progress_to_date) for row in rows)
    by_programme = contributions(rows, lambda row: [row.indicator.programme])
    by_donor = sorted(contributions(rows, lambda row: row.donors), key=lambda c: c.subject.name)
    return {
        "indicator_rows": rows,
        "progress": progress,
        "status": rollup_math.aligned_progress_status(progress),
        "progress_to_date": progress_to_date,
        "status_to_date": rollup_math.aligned_progress_status(progress_to_date),
        "not_measurable": [row for row in rows if row.progress is None],
        "contribution_tables": [
            ("by-programme", _("By programme"), _("Programme"), by_programme),
            ("by-donor", _("By donor"), _("Donor"), by_donor),
        ],
        "sees_everything": access.sees_everything,
        "trend": aligned_trend_context(
            {row.indicator.pk: row.weight for row in rows},
            indicators,
            fiscal_year_start_month or common_fiscal_year_start(indicators),
        ),
        "freshness": freshness_for(ids),
    }


def common_fiscal_year_start(indicators: list[Indicator]) -> int:
    """The fiscal year most of these indicators' programmes follow (the earliest month of a tie;
    January when there is none): a donor's goal speaks the donor's fiscal year."""
    months = Counter(indicator.programme.fiscal_year_start_month for indicator in indicators)
    return min(months, key=lambda month: (-months[month], month)) if months else 1


def aligned_trend_context(
    weights: dict[int, Decimal], indicators: list[Indicator], fiscal_year_start_month: int
) -> dict:
    """The aligned progress to date at the end of each calendar quarter so far, the quarters
    named after the fiscal year given: a chart and its numbers (one query)."""
    programme_of = {indicator.pk: indicator.programme_id for indicator in indicators}
    rows = selectors.programme_period_rows({pk: programme_of[pk] for pk in weights if pk in programme_of})
    first = selectors.first_period_start(rows)
    if first is None:
        return {"chart": None, "rows": []}
    rules = {
        indicator.pk: selectors.IndicatorRule(indicator.measure, indicator.time_aggregation, indicator.direction)
        for indicator in indicators
    }
    spans = selectors.quarter_spans(first, timezone.localdate())
    trend = selectors.aligned_trend(weights, selectors.percents_at(rules, rows, spans), spans)
    points = [
        {
            "label": charts.period_label(
                start, end, frequency="quarterly", fiscal_year_start_month=fiscal_year_start_month
            ),
            "end": end,
            "percent": rollup_math.round_percent(progress),
            "status": rollup_math.aligned_progress_status(progress),
        }
        for (start, end), progress in trend
    ]
    chart = charts.trend_chart(
        [(point["label"], point["percent"], point["status"]) for point in points], rtl=get_language_bidi()
    )
    return {"chart": chart, "rows": points}


# National targets and funder goals ----------------------------------------------------------


@login_required
def national_target_detail(request, pk: int):
    """National targets are seen by everyone signed in (docs/design.md §7); their indicators only
    from the programmes the user sees."""
    access = access_for(request.user)
    target = get_object_or_404(NationalTarget.objects.select_related("owner"), pk=pk)
    weights = dict(Alignment.objects.filter(national_target=target).values_list("indicator_id", "weight"))
    # The ministry's plan follows the calendar year (Libya's fiscal year).
    context = {"target": target, **aligned_context(access, weights, fiscal_year_start_month=1)}
    return render(request, "web/national_target_detail.html", context)


@login_required
def funder_goal_detail(request, pk: int):
    """A funder goal counts its own indicators and those of every goal below it (docs/design.md
    §5). Seen by its donor's members and the ministry; 404 for anyone else."""
    access = access_for(request.user)
    goal = get_object_or_404(
        FunderGoal.objects.filter(access.funder_goal_filter()).select_related("donor", "parent"), pk=pk
    )
    # Every goal, as the alignment report reads them: a subtree follows the parent links only.
    subtrees = rollup_math.goal_subtrees(dict(FunderGoal.objects.values_list("id", "parent_id")))
    own: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for goal_id, indicator_id, weight in Alignment.objects.filter(funder_goal_id__in=subtrees[goal.pk]).values_list(
        "funder_goal_id", "indicator_id", "weight"
    ):
        own[goal_id][indicator_id] = weight
    weights = rollup_math.goal_weights(goal.pk, subtrees[goal.pk], own)
    context = {"goal": goal, **aligned_context(access, weights, fiscal_year_start_month=None)}
    # A goal below counts part of this goal's indicators: its progress needs no further query.
    measured = {row.indicator.pk: row for row in context["indicator_rows"]}
    children = []
    for child in FunderGoal.objects.filter(parent=goal).order_by("code"):
        child_weights = rollup_math.goal_weights(child.pk, subtrees[child.pk], own)
        counted = [(child_weights[pk], row) for pk, row in measured.items() if pk in child_weights]
        progress = rollup_math.weighted_progress((weight, row.progress) for weight, row in counted)
        progress_to_date = rollup_math.weighted_progress((weight, row.progress_to_date) for weight, row in counted)
        children.append(
            {
                "goal": child,
                "indicator_count": len(counted),
                "progress": progress,
                "status": rollup_math.aligned_progress_status(progress),
                "progress_to_date": progress_to_date,
                "status_to_date": rollup_math.aligned_progress_status(progress_to_date),
            }
        )
    context["children"] = children
    return render(request, "web/funder_goal_detail.html", context)


# The indicator's page -----------------------------------------------------------------------


@dataclass
class PeriodCell:
    target: Decimal | None
    actual: Decimal | None
    percent: Decimal | None
    status: str


def _cell(row) -> PeriodCell:
    return PeriodCell(row.target, row.actual, row.percent_of_target, row.status)


@login_required
def indicator_detail(request, pk: int):
    """404 when the user does not see the indicator's programme; a member who sees it through a
    municipality sees that municipality's rows and results only (`projects.access`)."""
    access = access_for(request.user)
    indicator = get_object_or_404(
        access.scoped(Indicator.objects.all(), "programme")
        .select_related("programme", "workstream")
        .prefetch_related("disaggregations", "programme__donors"),
        pk=pk,
    )
    programme = indicator.programme
    rtl = get_language_bidi()
    name = partial(
        charts.period_label, frequency=indicator.frequency, fiscal_year_start_month=programme.fiscal_year_start_month
    )
    stored = list(
        Rollup.objects.filter(indicator=indicator)
        .filter(
            Q(scope=Rollup.Scope.PROGRAMME, scope_id=programme.pk)
            | Q(scope=Rollup.Scope.MUNICIPALITY, disaggregation_category="")
        )
        .filter(access.rollup_filter())
        .only(
            "scope",
            "scope_id",
            "period_start",
            "period_end",
            "disaggregation_category",
            "disaggregation_option",
            "target",
            "actual",
            "percent_of_target",
            "status",
            "target_to_date",
            "percent_to_date",
            "status_to_date",
        )
        .order_by("period_start", "period_end")
    )
    lop = None
    programme_periods = []
    breakdowns: dict[tuple[str, str], dict] = defaultdict(dict)
    towns: dict[int, dict] = defaultdict(dict)
    for row in stored:
        span = (row.period_start, row.period_end) if row.period_start else None
        if row.scope == Rollup.Scope.MUNICIPALITY:
            towns[row.scope_id][span] = _cell(row)
        elif row.disaggregation_category:
            breakdowns[(row.disaggregation_category, row.disaggregation_option)][span] = _cell(row)
        elif span is None:
            lop = row
        else:
            programme_periods.append(row)

    context = {
        "indicator": indicator,
        "programme": programme,
        "bounds": indicator.value_bounds(),
        "lop": lop,
        "programme_periods": [
            {"label": name(row.period_start, row.period_end), "row": row} for row in programme_periods
        ],
        "chart": charts.target_actual_chart(
            [(name(r.period_start, r.period_end), r.target, r.actual, r.status) for r in programme_periods], rtl=rtl
        ),
        "trend": _indicator_trend_context(indicator, programme_periods, name, rtl),
        "municipality_table": _municipality_table(access, indicator, towns, name),
        "breakdown_table": _breakdown_table(breakdowns, name),
        "evidence": list(
            Result.objects.filter(access.result_filter(), indicator=indicator, status=Result.Status.APPROVED)
            .exclude(evidence_url="")
            .select_related("municipality")
            .order_by("-period_start", "municipality_id", "disaggregation_category", "disaggregation_option")[
                :EVIDENCE_LIMIT
            ]
        ),
        "result_changes": _result_changes(access, indicator),
        "indicator_changes": _indicator_changes(indicator),
        "alignments": list(
            Alignment.objects.filter(indicator=indicator)
            .filter(access.alignment_filter())
            .select_related("national_target", "funder_goal__donor")
            # National targets first (no goal), then each donor's goals.
            .order_by(F("funder_goal__donor_id").asc(nulls_first=True), "national_target__code", "funder_goal__code")
        ),
        "freshness": freshness_for([indicator.pk]),
        "evidence_limit": EVIDENCE_LIMIT,
    }
    # "Sex: Female" for every breakdown shown: one query, only when one is.
    records = [change["record"] for change in context["result_changes"]]
    shown = [
        *breakdowns,
        *((r.disaggregation_category, r.disaggregation_option) for r in (*records, *context["evidence"])),
    ]
    labels = selectors.disaggregation_labels() if any(category for category, _option in shown) else {}

    def label(category: str, option: str) -> str:
        return labels.get((category, option), f"{category}: {option}") if category else ""

    for change in context["result_changes"]:
        change["breakdown"] = label(change["record"].disaggregation_category, change["record"].disaggregation_option)
    for result in context["evidence"]:
        result.breakdown_label = label(result.disaggregation_category, result.disaggregation_option)
    for row in context["breakdown_table"]["rows"]:
        row["label"] = label(*row["key"])
    return render(request, "web/indicator_detail.html", context)


def _indicator_trend_context(indicator: Indicator, period_rows: list[Rollup], name, rtl: bool) -> dict:
    rows = [
        rollup_math.PeriodRow(r.period_start, r.period_end, r.target, r.actual)
        for r in sorted(period_rows, key=lambda r: (r.period_end, r.period_start))
    ]
    trend = selectors.indicator_trend(indicator, rows, timezone.localdate())
    points = [
        {"label": name(start, end), "end": end, "to_date": to_date, "percent": to_date.percent_of_target}
        for (start, end), to_date in trend
    ]
    chart = charts.trend_chart([(p["label"], p["percent"], p["to_date"].status) for p in points], rtl=rtl)
    return {"chart": chart, "rows": points}


def _municipality_table(access: Access, indicator: Indicator, towns: dict[int, dict], name) -> dict:
    """Municipality × period: the municipalities taking part (or that reported), those whose own
    rows the user sees, against every period any of them has a row for (one query)."""
    programme = indicator.programme
    municipalities = [
        town
        for town in Organisation.objects.filter(
            Q(pk__in=list(towns)) | Q(twinnings__programme_id=programme.pk) | Q(workstreams__programme_id=programme.pk),
            kind=Organisation.Kind.MUNICIPALITY,
        )
        .distinct()
        .order_by("name")
        if sees_municipality_rows(access, programme, town.pk)
    ]
    spans = sorted({span for cells in towns.values() for span in cells if span is not None})
    # The grid is the page's largest part (100 municipalities × 12 periods at national scale):
    # its numbers are written here, each distinct value once, and the template only places them.
    shown = cache(num)

    def written(cell: PeriodCell | None) -> dict | None:
        # A dict: the template finds its keys at the first try (an object's attributes, a tuple's
        # items, are found only after a failed dict lookup, which costs more than the cell).
        if cell is None:
            return None
        return {
            "status": cell.status,
            "actual": shown(cell.actual),
            "target": "" if cell.target is None else shown(cell.target),
        }

    return {
        "columns": [name(start, end) for start, end in spans],
        "rows": [
            {
                "municipality": town,
                # The periods, then the life of programme.
                "cells": [written(towns.get(town.pk, {}).get(span)) for span in [*spans, None]],
            }
            for town in municipalities
        ],
    }


def _breakdown_table(breakdowns: dict[tuple[str, str], dict], name) -> dict:
    spans = sorted({span for cells in breakdowns.values() for span in cells if span is not None})
    return {
        "columns": [name(start, end) for start, end in spans],
        "rows": [
            {"key": key, "cells": [cells.get(span) for span in [*spans, None]]}
            for key, cells in sorted(breakdowns.items())
        ],
    }


def _result_changes(access: Access, indicator: Indicator) -> list[dict]:
    """The newest changes of the indicator's results the user sees, with who made them; a link to
    the result's own history while the result exists (three queries)."""
    records = list(
        Result.history.filter(indicator_id=indicator.pk)
        .filter(access.result_filter())
        .select_related("history_user", "municipality")
        .prefetch_related("history_user__memberships__organisation")
        .order_by("-history_date", "-history_id")[:HISTORY_LIMIT]
    )
    existing = set(Result.objects.filter(pk__in={record.id for record in records}).values_list("pk", flat=True))
    return [{"record": record, "exists": record.id in existing} for record in records]


def _indicator_changes(indicator: Indicator) -> list[dict]:
    """The newest changes of the indicator itself, each with the fields it changed (from the
    record before it; the oldest shown is compared with the one before it, read too)."""
    records = list(
        indicator.history.select_related("history_user")
        .prefetch_related("history_user__memberships__organisation")
        .order_by("-history_date", "-history_id")[: HISTORY_LIMIT + 1]
    )
    model_fields = {name: Indicator._meta.get_field(name) for name in INDICATOR_HISTORY_FIELDS}
    in_language = {"en": _("%(field)s in English"), "ar": _("%(field)s in Arabic")}

    def label(name: str) -> str:
        """The page's own words ("name in Arabic"), not modeltranslation's "name [ar]"."""
        base, _sep, language = name.rpartition("_")
        if language in in_language and base in TRANSLATED_INDICATOR_FIELDS:
            return in_language[language] % {"field": Indicator._meta.get_field(base).verbose_name}
        return model_fields[name].verbose_name

    changes = []
    for record, previous in zip(records[:HISTORY_LIMIT], [*records[1:], None], strict=False):
        fields = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, included_fields=INDICATOR_HISTORY_FIELDS)
            for change in delta.changes:
                model_field = model_fields[change.field]
                choices = dict(model_field.choices or ())
                fields.append(
                    {
                        "label": label(change.field),
                        "old": choices.get(change.old, change.old),
                        "new": choices.get(change.new, change.new),
                    }
                )
        changes.append({"record": record, "fields": fields})
    return changes


# Sparklines for the dashboards --------------------------------------------------------------


def national_target_sparklines(access: Access) -> dict[int, dict]:
    """National target id → its sparkline: progress to date at the end of the last quarters."""
    rtl = get_language_bidi()
    trends = selectors.national_target_trends(access, timezone.localdate(), SPARKLINE_PERIODS)
    return {pk: line for pk, values in trends.items() if (line := charts.sparkline(values, rtl=rtl))}


def indicator_sparklines(indicators: list[Indicator]) -> dict[int, dict]:
    """Indicator id → its sparkline: percent of target to date at the end of its last periods."""
    rtl = get_language_bidi()
    trends = selectors.indicator_trends(indicators, timezone.localdate(), SPARKLINE_PERIODS)
    return {pk: line for pk, values in trends.items() if (line := charts.sparkline(values, rtl=rtl))}
