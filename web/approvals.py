"""The approval queue: what waits for the user's approval, narrowed and sorted, with what an
approver needs to judge each group (the period's target, the previous period's value, the
evidence, whether the breakdowns add up, the comments so far), and reviewing several groups at
once (docs/reporting-cycle.md).

A group is what an editor submits together from one grid: the results of one indicator,
municipality and period. Reviewing goes through the services one result at a time, one group per
transaction: a group the services refuse (a stale version, the maker-checker rule, a return
without a comment) is left as it was and says why, and the others go ahead. Reading runs a fixed
number of queries whatever the length of the queue.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from common.errors import ServiceError
from common.validation import messages_by_field
from indicators import periods
from indicators.models import Indicator, Result, Target
from indicators.services import result_approve, result_return
from partners.models import Organisation
from projects.access import Access
from projects.models import Programme

from .selectors import ResultGroup, approvable_filter, disaggregation_labels

SORTS = {
    "oldest": (_("Oldest submission first"), ("submitted_at", "id")),
    "newest": (_("Newest submission first"), ("-submitted_at", "-id")),
    "indicator": (_("Indicator"), ("indicator__programme__code", "indicator__code", "period_start", "id")),
    "municipality": (_("Municipality"), ("municipality__name", "indicator__code", "period_start", "id")),
}
# Within a group, the total first, then the breakdowns in order.
GROUP_ORDER = ("indicator_id", "municipality_id", "period_start", "disaggregation_category", "disaggregation_option")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Filters:
    programme: int | None = None
    municipality: int | None = None
    indicator: int | None = None
    period: datetime.date | None = None
    submitter: int | None = None
    sort: str = "oldest"

    @classmethod
    def from_query(cls, query) -> "Filters":
        try:
            period = datetime.date.fromisoformat(query.get("period", ""))
        except ValueError:
            period = None
        sort = query.get("sort", "oldest")
        return cls(
            programme=_int(query.get("programme")),
            municipality=_int(query.get("municipality")),
            indicator=_int(query.get("indicator")),
            period=period,
            submitter=_int(query.get("submitter")),
            sort=sort if sort in SORTS else "oldest",
        )

    def q(self) -> Q:
        q = Q()
        if self.programme:
            q &= Q(indicator__programme_id=self.programme)
        if self.municipality:
            q &= Q(municipality_id=self.municipality)
        if self.indicator:
            q &= Q(indicator_id=self.indicator)
        if self.period:
            q &= Q(period_start=self.period)
        if self.submitter:
            q &= Q(submitted_by_id=self.submitter)
        return q


@dataclass
class Choices:
    """What the filters offer: only what is waiting for the user."""

    programmes: list = field(default_factory=list)
    municipalities: list = field(default_factory=list)
    indicators: list = field(default_factory=list)
    periods: list = field(default_factory=list)
    submitters: list = field(default_factory=list)
    sorts: list = field(default_factory=list)


@dataclass
class Queue:
    groups: list[ResultGroup]
    truncated: bool
    choices: Choices
    filters: Filters


def waiting(access: Access) -> QuerySet[Result] | None:
    """The submitted results the user may review (None: the user reviews nothing)."""
    approvable = approvable_filter(access)
    if approvable is None:
        return None
    return Result.objects.filter(status=Result.Status.SUBMITTED).filter(access.result_filter()).filter(approvable)


def _choices(queue: QuerySet[Result]) -> Choices:
    """Six queries, each a DISTINCT over the waiting results."""
    ids = queue.order_by()
    User = get_user_model()
    return Choices(
        programmes=list(
            Programme.objects.filter(pk__in=ids.values("indicator__programme_id")).only("id", "code").order_by("code")
        ),
        # The ids first: as a subquery, PostgreSQL walks every municipality's results for the
        # few waiting ones (0.5 s at national scale); read apart, they come from the status index.
        municipalities=list(
            Organisation.objects.filter(pk__in=list(ids.values_list("municipality_id", flat=True).distinct()))
            .only("id", "name", "name_en", "name_ar")
            .order_by("name")
        ),
        indicators=list(
            Indicator.objects.filter(pk__in=ids.values("indicator_id"))
            .only("id", "code", "name", "name_en", "name_ar", "programme_id")
            .order_by("code", "id")
        ),
        periods=list(ids.values_list("period_start", "period_end").distinct().order_by("-period_start", "period_end")),
        submitters=list(
            User.objects.filter(pk__in=ids.values("submitted_by_id"))
            .only("id", "username", "first_name", "last_name")
            .order_by("username")
        ),
        sorts=[(key, label) for key, (label, _order) in SORTS.items()],
    )


def approval_queue(access: Access, filters: Filters, limit: int = 100) -> Queue | None:
    """The queue, narrowed by `filters`, at most `limit` results (whole groups first)."""
    queue = waiting(access)
    if queue is None:
        return None
    choices = _choices(queue)
    order = SORTS[filters.sort][1]
    # The top rows are picked on the result's own columns, then only those are read with their
    # relations, however long the queue.
    ids = list(queue.filter(filters.q()).order_by(*order).values_list("pk", flat=True)[: limit + 1])
    truncated = len(ids) > limit
    results = {
        r.pk: r
        for r in Result.objects.filter(pk__in=ids[:limit])
        .select_related("indicator__programme", "municipality", "submitted_by")
        .prefetch_related("submitted_by__memberships__organisation")  # pages name people by organisation
    }
    labels = disaggregation_labels()
    groups: dict[tuple, ResultGroup] = {}
    for pk in ids[:limit]:  # groups in the order their first result sorts
        result = results[pk]
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
    for group in groups.values():
        group.results.sort(key=lambda r: tuple(getattr(r, name) for name in GROUP_ORDER))
    found = list(groups.values())
    _attach_facts(found)
    return Queue(found, truncated, choices, filters)


def _previous_period(group: ResultGroup) -> tuple[datetime.date, datetime.date]:
    indicator = group.indicator
    return periods.period_containing(
        group.period_start - datetime.timedelta(days=1),
        indicator.frequency,
        indicator.programme.fiscal_year_start_month,
    )


def _attach_facts(groups: list[ResultGroup]) -> None:
    """Per group: `target` (the municipality's own, else the programme-wide one, with
    `target_scope`), `previous` (the previous period's total result, any status) and, per result,
    `comments` (the comments it has carried, oldest first, with who and when). Three queries."""
    if not groups:
        return
    indicator_ids = {g.indicator.pk for g in groups}
    targets: dict[tuple, Decimal] = {}
    for indicator_id, municipality_id, start, value in Target.objects.filter(
        indicator_id__in=indicator_ids, period_start__in={g.period_start for g in groups}
    ).values_list("indicator_id", "municipality_id", "period_start", "value"):
        targets[(indicator_id, municipality_id, start)] = value
    previous_starts = {g.key: _previous_period(g) for g in groups}
    previous: dict[tuple, Result] = {}
    for result in Result.objects.filter(
        indicator_id__in=indicator_ids,
        municipality_id__in={g.municipality.pk for g in groups},
        period_start__in={start for start, _end in previous_starts.values()},
        disaggregation_category="",
    ).only("id", "indicator_id", "municipality_id", "period_start", "period_end", "value", "status"):
        previous[(result.indicator_id, result.municipality_id, result.period_start, result.period_end)] = result
    comments: dict[int, list] = defaultdict(list)
    result_ids = [r.pk for g in groups for r in g.results]
    for record in (
        Result.history.filter(id__in=result_ids)
        .exclude(comment="")
        .select_related("history_user")
        .order_by("history_date", "history_id")
        .only("id", "comment", "status", "history_date", "history_user")
    ):
        said = comments[record.id]
        if not said or said[-1]["text"] != record.comment:
            said.append({"text": record.comment, "by": record.history_user, "at": record.history_date})
    for group in groups:
        own = targets.get((group.indicator.pk, group.municipality.pk, group.period_start))
        programme_wide = targets.get((group.indicator.pk, None, group.period_start))
        group.target = own if own is not None else programme_wide
        group.target_scope = "municipality" if own is not None else "programme" if programme_wide is not None else ""
        start, end = previous_starts[group.key]
        group.previous = previous.get((group.indicator.pk, group.municipality.pk, start, end))
        group.previous_period = (start, end)
        for result in group.results:
            result.comments = comments.get(result.pk, [])


# Reviewing ---------------------------------------------------------------------------------------


def parse_tokens(raw: str) -> list[tuple[int, int | None]]:
    """ "id:version,id:version" → [(id, version)]."""
    tokens = []
    for token in raw.split(","):
        pk, _sep, version = token.partition(":")
        if _int(pk) is not None:
            tokens.append((int(pk), _int(version)))
    return tokens


@dataclass
class Review:
    done: int = 0  # results approved or returned
    failures: dict[str, list[str]] = field(default_factory=dict)  # group key → why it was left


def _refusal_messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [m for found in messages_by_field(error).values() for m in found]
    return [str(error) or str(_("You may not review these results."))]


def review(*, access: Access, user, action: str, comment: str, batches: list[list[tuple[int, int | None]]]) -> Review:
    """Approve or return each batch (one group's results), each in its own transaction, every
    result through the services. A batch that is refused is left untouched and keeps its reasons."""
    outcome = Review()
    queue = waiting(access)
    wanted = {pk for batch in batches for pk, _version in batch}
    results = {r.pk: r for r in queue.filter(pk__in=wanted).select_related("indicator")} if queue is not None else {}
    for batch in batches:
        found = [results.get(pk) for pk, _version in batch]
        key = ""
        if found and found[0] is not None:
            first = found[0]
            key = f"{first.indicator_id}-{first.municipality_id}-{first.period_start.isoformat()}"
        if not batch or None in found:
            outcome.failures[key] = [str(_("These results are no longer waiting for you; reload the queue."))]
            continue
        try:
            with transaction.atomic():
                for (_pk, version), result in zip(batch, found, strict=True):
                    if action == "approve":
                        result_approve(result=result, user=user, expected_version=version)
                    else:
                        result_return(result=result, user=user, comment=comment, expected_version=version)
        except (ValidationError, ServiceError, PermissionDenied) as error:
            outcome.failures[key] = _refusal_messages(error)
        else:
            outcome.done += len(batch)
    return outcome
