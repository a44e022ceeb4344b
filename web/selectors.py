"""Reads for the pages. Every function runs a fixed number of queries, whatever the data size
(prefetches instead of per-row lookups), so each page's query count is bounded."""

import datetime
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from indicators import periods
from indicators.models import Alignment, DisaggregationOption, Indicator, Result
from partners.models import Membership, Organisation
from projects.access import Access
from projects.models import Activity, Programme, Twinning, Workstream
from rollups import rollup_math
from rollups.models import Rollup

from .results import breakdown_warnings
from .templatetags.twinning_web import num


def visible_programmes(access: Access) -> QuerySet[Programme]:
    return access.programmes(
        Programme.objects.select_related("implementer", "counterpart").prefetch_related(
            "donors", Prefetch("twinnings", queryset=Twinning.objects.prefetch_related("municipalities"))
        )
    ).order_by("code")


def programme_for_page(access: Access, pk: int) -> Programme:
    queryset = access.programmes(
        Programme.objects.select_related("implementer", "counterpart").prefetch_related("donors")
    )
    return get_object_or_404(queryset, pk=pk)


def programme_twinnings(programme: Programme) -> list[Twinning]:
    return list(programme.twinnings.prefetch_related("municipalities").order_by("name"))


def programme_workstreams(programme: Programme) -> list[Workstream]:
    return list(
        programme.workstreams.select_related("theme", "lead", "twinning")
        .prefetch_related("municipalities")
        .annotate(activity_count=Count("activities"))
        .order_by("name")
    )


def programme_indicators(programme: Programme) -> list[Indicator]:
    return list(programme.indicators.select_related("workstream").prefetch_related("disaggregations").order_by("code"))


def recent_activities(queryset: QuerySet[Activity], limit: int = 20) -> list[Activity]:
    return list(
        queryset.select_related("workstream__twinning", "workstream__theme", "municipality").order_by(
            "-start_date", "title"
        )[:limit]
    )


# Municipalities ------------------------------------------------------------------------------


def municipalities_for(access: Access) -> QuerySet[Organisation]:
    """Municipalities taking part in a programme the user sees (every municipality for the ministry)."""
    queryset = Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY)
    ids = access.programme_ids
    if ids is None:
        return queryset.order_by("country", "name")
    return (
        queryset.filter(Q(twinnings__programme_id__in=ids) | Q(workstreams__programme_id__in=ids))
        .distinct()
        .order_by("country", "name")
    )


def municipality_programmes(access: Access, municipality: Organisation) -> list[Programme]:
    return list(
        access.programmes(Programme.objects.prefetch_related("donors").select_related("implementer"))
        .filter(Q(twinnings__municipalities=municipality) | Q(workstreams__municipalities=municipality))
        .distinct()
        .order_by("code")
    )


def municipality_workstreams(access: Access, municipality: Organisation) -> list[Workstream]:
    return list(
        access.scoped(Workstream.objects.filter(municipalities=municipality), "programme")
        .select_related("programme", "theme", "twinning")
        .order_by("programme__code", "name")
    )


def visible_results(access: Access) -> QuerySet[Result]:
    return Result.objects.filter(access.result_filter())


# Result entry --------------------------------------------------------------------------------


def editor_municipality_ids(access: Access) -> set[int] | None:
    """Municipalities the user enters results for directly (None: any, within the programme)."""
    if access.is_superuser:
        return None
    return access.organisation_ids(Organisation.Kind.MUNICIPALITY, Membership.Role.EDITOR)


def entry_indicators(access: Access) -> list[Indicator]:
    """Indicators of the programmes in which the user may enter some result."""
    if access.is_superuser:
        programmes = Programme.objects.all()
    else:
        editable = set(access.implemented_programme_ids(Membership.Role.EDITOR))
        if access.organisation_ids(Organisation.Kind.MUNICIPALITY, Membership.Role.EDITOR):
            visible = access.programme_ids
            editable |= set(Programme.objects.values_list("pk", flat=True)) if visible is None else set(visible)
        programmes = Programme.objects.filter(pk__in=editable)
    return list(
        Indicator.objects.filter(programme__in=programmes)
        .select_related("programme")
        .order_by("programme__code", "code")
    )


def entry_municipalities(access: Access, programme_id: int | None) -> list[Organisation]:
    """Municipalities the user may enter results for in a programme."""
    from projects.selectors import programme_municipalities

    if programme_id is None:
        mine = editor_municipality_ids(access)
        queryset = Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY)
        return list(queryset if mine is None else queryset.filter(pk__in=mine))
    candidates = programme_municipalities(programme_id).order_by("name")
    return [m for m in candidates if access.can_enter_result(programme_id, m.pk)]


def indicator_periods(indicator: Indicator) -> list[tuple[datetime.date, datetime.date]]:
    programme = indicator.programme
    return periods.periods_between(
        programme.start_date, programme.end_date, indicator.frequency, programme.fiscal_year_start_month
    )


def default_period(indicator: Indicator, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    all_periods = indicator_periods(indicator)
    for start, end in all_periods:
        if start <= today <= end:
            return start, end
    return all_periods[-1] if all_periods and today > all_periods[-1][1] else all_periods[0]


def disaggregation_options(indicator: Indicator) -> list[DisaggregationOption]:
    categories = [c.pk for c in indicator.disaggregations.all()]
    return list(
        DisaggregationOption.objects.filter(category_id__in=categories)
        .select_related("category")
        .order_by("category__code", "code")
    )


def approvable_filter(access: Access) -> Q | None:
    """Results the user may approve or return (None: none at all)."""
    if access.is_superuser or access.organisation_ids(Organisation.Kind.MINISTRY, Membership.Role.APPROVER):
        return Q()
    q = None
    programmes = access.implemented_programme_ids(Membership.Role.APPROVER)
    if programmes:
        q = Q(indicator__programme_id__in=programmes)
    municipalities = access.organisation_ids(Organisation.Kind.MUNICIPALITY, Membership.Role.APPROVER)
    if municipalities:
        visible = access.programme_ids
        own = Q(municipality_id__in=municipalities)
        if visible is not None:
            own &= Q(indicator__programme_id__in=visible)
        q = own if q is None else q | own
    return q


def disaggregation_labels() -> dict[tuple[str, str], str]:
    """(category code, option code) → "Category: Option" in the active language (one query)."""
    return {
        (option.category.code, option.code): f"{option.category.name}: {option.name}"
        for option in DisaggregationOption.objects.select_related("category")
    }


@dataclass
class ResultGroup:
    """The submitted results of one indicator, municipality and period: what an editor submitted
    together from one grid, approved or returned together."""

    indicator: Indicator
    municipality: Organisation
    period_start: datetime.date
    period_end: datetime.date
    results: list[Result]
    # Why the viewer may not approve or return this group (set by the page), or None.
    review_refusal: ValidationError | None = None

    @property
    def key(self) -> str:
        return f"{self.indicator.pk}-{self.municipality.pk}-{self.period_start.isoformat()}"

    @property
    def tokens(self) -> str:
        return ",".join(f"{r.pk}:{r.version}" for r in self.results)

    @property
    def warnings(self) -> list[str]:
        """Submitted options larger than the submitted total, or not adding up to it (numbers only)."""
        if self.indicator.measure != Indicator.Measure.NUMBER:
            return []
        total = next((r.value for r in self.results if not r.disaggregation_category), None)
        options = []
        for result in self.results:
            if result.disaggregation_category:
                category, _sep, option = getattr(result, "breakdown_label", result.disaggregation_option).partition(":")
                options.append((category.strip(), option.strip() or category.strip(), result.value))
        return breakdown_warnings(total, options, shown=num)


def approval_queue(access: Access, limit: int = 100) -> tuple[list[ResultGroup], bool]:
    q = approvable_filter(access)
    if q is None:
        return [], False
    # Oldest first. The top rows are picked on the result's own columns (a top-N sort on the
    # status index), then only those are read with their relations, however long the queue.
    order = ("submitted_at", "indicator_id", "municipality_id", "period_start", "disaggregation_category", "id")
    ids = list(
        Result.objects.filter(status=Result.Status.SUBMITTED)
        .filter(access.result_filter())
        .filter(q)
        .order_by(*order)
        .values_list("pk", flat=True)[: limit + 1]
    )
    results = list(
        Result.objects.filter(pk__in=ids)
        .select_related("indicator__programme", "municipality", "submitted_by")
        .prefetch_related("submitted_by__memberships__organisation")  # who submitted: their organisation
        .order_by(*order)
    )
    truncated = len(results) > limit
    labels = disaggregation_labels()
    groups: dict[tuple, ResultGroup] = {}
    for result in results[:limit]:
        result.breakdown_label = labels.get(
            (result.disaggregation_category, result.disaggregation_option),
            f"{result.disaggregation_category}: {result.disaggregation_option}",
        )
        key = (result.indicator_id, result.municipality_id, result.period_start, result.period_end)
        group = groups.get(key)
        if group is None:
            group = groups[key] = ResultGroup(
                result.indicator, result.municipality, result.period_start, result.period_end, []
            )
        group.results.append(result)
    return list(groups.values()), truncated


# Drill-down: national targets, funder goals, indicators and their trends ---------------------
#
# A trend is the progress to date (docs/design.md §4) as of the end of each period so far, read
# from the stored programme-wide period rows (one query for any number of indicators) and judged
# by `rollup_math.progress_to_date`, the rule the stored LoP rows follow: the last point of a
# trend is the progress to date the dashboards show.

Span = tuple[datetime.date, datetime.date]


@dataclass(frozen=True)
class IndicatorRule:
    """What `progress_to_date` needs to know of an indicator."""

    measure: str
    time_aggregation: str
    direction: str


def programme_period_rows(programme_of: dict[int, int]) -> dict[int, list[rollup_math.PeriodRow]]:
    """The stored programme-wide period rows (totals) of these indicators (indicator id →
    its programme id), by period end. Asked by (indicator, programme) so that each is a prefix
    of the rollups' unique cell index: by indicator alone PostgreSQL reads every municipality's
    rows of the indicator to keep the programme's (0.3 s for 200 indicators at national scale)."""
    rows: dict[int, list[rollup_math.PeriodRow]] = defaultdict(list)
    if not programme_of:
        return rows
    cells = Q()
    for indicator_id, programme_id in programme_of.items():
        cells |= Q(indicator_id=indicator_id, scope_id=programme_id)
    for indicator_id, start, end, target, actual in (
        Rollup.objects.filter(cells)
        .filter(scope=Rollup.Scope.PROGRAMME, period_start__isnull=False, disaggregation_category="")
        .order_by("indicator_id", "period_end", "period_start")
        .values_list("indicator_id", "period_start", "period_end", "target", "actual")
    ):
        rows[indicator_id].append(rollup_math.PeriodRow(start, end, target, actual))
    return rows


def progress_at(
    rule: IndicatorRule, rows: list[rollup_math.PeriodRow], dates: list[datetime.date]
) -> list[rollup_math.ToDate]:
    """The progress to date as of each of `dates` (in order) over `rows` (in order of period end).
    Between two period ends nothing changes, so it is judged once per set of ended periods: a
    sparkline of eight quarters over an annual indicator judges two."""
    ends = [row.period_end for row in rows]
    found, judged, ended = [], None, -1
    for day in dates:
        count = bisect_right(ends, day)
        if count != ended:
            judged = rollup_math.progress_to_date(
                rule.measure, rule.time_aggregation, rule.direction, rows[:count], day
            )
            ended = count
        found.append(judged)
    return found


def indicator_trend(
    indicator: Indicator, rows: list[rollup_math.PeriodRow], today: datetime.date, last: int | None = None
) -> list[tuple[Span, rollup_math.ToDate]]:
    """The indicator's progress to date as of the end of each of its periods that has ended by
    `today` (the last `last` of them), from the first period with a target or an actual on (none
    before that). A period without a row of its own is listed too: the line then shows that
    nothing moved. The indicator comes with its programme (its periods follow its fiscal year)."""
    if not rows:
        return []
    first = min((row.period_start, row.period_end) for row in rows)
    spans = set(indicator_periods(indicator)) | {(row.period_start, row.period_end) for row in rows}
    ended = sorted(span for span in spans if span >= first and rollup_math.has_ended(span[1], today))
    if last is not None:
        ended = ended[-last:]
    rule = IndicatorRule(indicator.measure, indicator.time_aggregation, indicator.direction)
    return list(zip(ended, progress_at(rule, rows, [end for _start, end in ended]), strict=True))


def quarter_spans(first: datetime.date, today: datetime.date) -> list[Span]:
    """The calendar quarters from the one holding `first` to the last one ended by `today`: the
    points of a national target's or a funder goal's trend, whose indicators may follow
    different frequencies and fiscal years."""
    spans = []
    year, quarter = first.year, (first.month - 1) // 3
    while True:
        start = datetime.date(year, quarter * 3 + 1, 1)
        end_month = quarter * 3 + 3
        end = datetime.date(year + end_month // 12, end_month % 12 + 1, 1) - datetime.timedelta(days=1)
        if not rollup_math.has_ended(end, today):
            return spans
        spans.append((start, end))
        year, quarter = (year + 1, 0) if quarter == 3 else (year, quarter + 1)


def first_period_start(rows: dict[int, list[rollup_math.PeriodRow]]) -> datetime.date | None:
    starts = [row.period_start for series in rows.values() for row in series]
    return min(starts) if starts else None


def percents_at(
    rules: dict[int, IndicatorRule], rows: dict[int, list[rollup_math.PeriodRow]], spans: list[Span]
) -> dict[int, list[Decimal | None]]:
    """Each indicator's percent of target to date at the end of each span."""
    ends = [end for _start, end in spans]
    return {
        indicator_id: [to_date.percent_of_target for to_date in progress_at(rule, rows.get(indicator_id, []), ends)]
        for indicator_id, rule in rules.items()
    }


def aligned_trend(
    weights: dict[int, Decimal], percents: dict[int, list[Decimal | None]], spans: list[Span]
) -> list[tuple[Span, Decimal | None]]:
    """A national target's or funder goal's progress to date at the end of each span: Σ w·π / Σ w
    over its indicators with π to date defined then (docs/design.md §5), as `compute_alignment`
    gives it when asked `as_of` that day. `percents` are `percents_at` the same spans."""
    return [
        (
            span,
            rollup_math.weighted_progress(
                (weight, rollup_math.indicator_progress(percents[indicator_id][index]))
                for indicator_id, weight in weights.items()
            ),
        )
        for index, span in enumerate(spans)
    ]


def national_target_trends(access: Access, today: datetime.date, last: int) -> dict[int, list[Decimal | None]]:
    """Every national target's progress to date at the end of each of the last `last` calendar
    quarters, over the indicators of the programmes the user sees (two queries)."""
    weights: dict[int, dict[int, Decimal]] = defaultdict(dict)
    rules: dict[int, IndicatorRule] = {}
    programme_of: dict[int, int] = {}
    for target_id, indicator_id, programme_id, weight, measure, aggregation, direction in (
        Alignment.objects.filter(national_target__isnull=False)
        .filter(access.programme_filter("indicator__programme"))
        .values_list(
            "national_target_id",
            "indicator_id",
            "indicator__programme_id",
            "weight",
            "indicator__measure",
            "indicator__time_aggregation",
            "indicator__direction",
        )
    ):
        weights[target_id][indicator_id] = weight
        rules[indicator_id] = IndicatorRule(measure, aggregation, direction)
        programme_of[indicator_id] = programme_id
    rows = programme_period_rows(programme_of)
    first = first_period_start(rows)
    if first is None:
        return {}
    spans = quarter_spans(first, today)[-last:]
    percents = percents_at(rules, rows, spans)
    return {
        target_id: [progress for _span, progress in aligned_trend(own, percents, spans)]
        for target_id, own in weights.items()
    }


def indicator_trends(indicators: list[Indicator], today: datetime.date, last: int) -> dict[int, list[Decimal | None]]:
    """Each indicator's percent of target to date at the end of its last `last` periods so far
    (one query; the indicators come with their programme)."""
    rows = programme_period_rows({indicator.pk: indicator.programme_id for indicator in indicators})
    return {
        indicator.pk: [to_date.percent_of_target for _span, to_date in trend]
        for indicator in indicators
        if (trend := indicator_trend(indicator, rows.get(indicator.pk, []), today, last))
    }
