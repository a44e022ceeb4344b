"""Reads for the pages. Every function runs a fixed number of queries, whatever the data size
(prefetches instead of per-row lookups), so each page's query count is bounded."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from indicators import periods
from indicators.models import DisaggregationOption, Indicator, Result
from partners.models import Membership, Organisation
from projects.access import Access
from projects.models import Activity, Programme, Twinning, Workstream

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
