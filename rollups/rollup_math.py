"""The rollup and alignment rules of docs/design.md §4 and §5, once, over plain values (no Django).

Everything here takes plain values and returns `Decimal` (or `None` for "undefined"). The SQL
engine (`rollups/engine.py`) is tested against these functions value for value, and the
SQLite demo path uses them directly.

Arithmetic conventions, shared with the SQL engine so both give identical stored numbers:

* Sums are exact.
* Every division (a pooled percentage, a mean, a percent of target) is carried to
  `DIVISION_PLACES` (20) decimal places, rounded half-up (`divide`).
* Stored actuals and targets are rounded half-up to 6 places (`round_value`), stored
  percentages to 2 places (`round_percent`). Statuses are decided on the stored (2-place)
  percentage, so a row shown as "85.00 %" is always `on_track`.

Readings of the contract where it leaves room (also in docs/rollups.md):

* `percentage` and `score` indicators behave as `latest` for actuals *and* for the LoP target.
* A `percentage` result counts only when it carries a numerator and a denominator (results
  entered before the measure was changed to percentage have none, and cannot be pooled).
* `cumulative` actual at p is the sum of A(q) over the periods q ≤ p that have data, so it is
  defined at a period without data of its own once any earlier period had data (running totals
  carry forward), and undefined before the first data.
* Rows exist for the periods where the scope has data or a target (plus, for cumulative, every
  such period after data started); absent periods are simply "no row".
* Disaggregated rows (a `{category: option}` pair) have no target: targets are set on totals.
* Twinning and programme targets built from municipality targets use every municipality target
  of the scope at p (not only those of municipalities that reported).
* `direction = decrease` with an actual of 0 and a target above 0: the percentage is undefined
  (division by 0) but the status is `above` — nothing happened, which beats any target.
* Progress to date (`progress_to_date`) is judged on the period rows as stored (6-place actuals
  and targets), so a report that recomputes it from stored rows for another date gives the
  stored numbers exactly. A period has ended by D when its last day is D or earlier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

DIVISION_PLACES = 20
VALUE_PLACES = 6
PERCENT_PLACES = 2

BELOW_THRESHOLD = Decimal(85)
ABOVE_THRESHOLD = Decimal(115)
HUNDRED = Decimal(100)

NUMBER, PERCENTAGE, SCORE = "number", "percentage", "score"
SUM, CUMULATIVE, LATEST = "sum", "cumulative", "latest"
INCREASE, DECREASE = "increase", "decrease"
SCOPE_MUNICIPALITY, SCOPE_TWINNING, SCOPE_PROGRAMME = "municipality", "twinning", "programme"
# The progress statuses of §4. Their labels, translated, are `rollups.models.Rollup.Status`.
NO_DATA, NO_TARGET, BELOW, ON_TRACK, ABOVE = "no_data", "no_target", "below", "on_track", "above"

Period = tuple[date, date]

_WIDE = Context(prec=80, rounding=ROUND_HALF_UP)


def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def divide(dividend: Decimal, divisor: Decimal) -> Decimal:
    """dividend / divisor to DIVISION_PLACES places, half-up (the SQL engine does the same)."""
    with localcontext(_WIDE):
        return (Decimal(dividend) / Decimal(divisor)).quantize(_quantum(DIVISION_PLACES))


def round_value(value: Decimal | None) -> Decimal | None:
    """An actual or a target as stored: 6 places, half-up."""
    if value is None:
        return None
    with localcontext(_WIDE):
        return Decimal(value).quantize(_quantum(VALUE_PLACES))


def round_percent(value: Decimal | None) -> Decimal | None:
    """A percentage as stored or shown: 2 places, half-up."""
    if value is None:
        return None
    with localcontext(_WIDE):
        return Decimal(value).quantize(_quantum(PERCENT_PLACES))


def effective_time_aggregation(measure: str, time_aggregation: str) -> str:
    """`percentage` and `score` always behave as `latest` (§4)."""
    return time_aggregation if measure == NUMBER else LATEST


# --- §4: one period, one scope -------------------------------------------------------------


@dataclass(frozen=True)
class ResultValue:
    """One approved result as the rules see it."""

    municipality_id: int
    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None


def counts_for(measure: str, result: ResultValue) -> bool:
    """A percentage result without both parts cannot be pooled, so it does not count."""
    if measure == PERCENTAGE:
        return result.numerator is not None and result.denominator is not None
    return True


def period_value(measure: str, results: Iterable[ResultValue]) -> Decimal | None:
    """A(p, S): the value of one period over the counted results of a scope; None = no data."""
    counted = [result for result in results if counts_for(measure, result)]
    if not counted:
        return None
    with localcontext(_WIDE):
        if measure == NUMBER:
            return sum((Decimal(result.value) for result in counted), Decimal(0))
        if measure == PERCENTAGE:
            numerators = sum((Decimal(result.numerator) for result in counted), Decimal(0))
            denominators = sum((Decimal(result.denominator) for result in counted), Decimal(0))
            if denominators == 0:
                return None
            return divide(HUNDRED * numerators, denominators)
        if measure == SCORE:
            return divide(sum((Decimal(result.value) for result in counted), Decimal(0)), Decimal(len(counted)))
    raise ValueError(f"unknown measure {measure!r}")


def combine_targets(measure: str, values: Iterable[Decimal]) -> Decimal | None:
    """Target of a multi-municipality scope from municipality targets: sum for numbers, else mean."""
    values = [Decimal(value) for value in values]
    if not values:
        return None
    total = sum(values, Decimal(0))
    if measure == NUMBER:
        return total
    return divide(total, Decimal(len(values)))


def scope_target(
    measure: str, *, programme_wide: Decimal | None, municipality_targets: Iterable[Decimal]
) -> Decimal | None:
    """Target of a scope at p: programme-wide if given (programme scope only), else combined."""
    if programme_wide is not None:
        return Decimal(programme_wide)
    return combine_targets(measure, municipality_targets)


# --- §4: across periods ----------------------------------------------------------------------


def period_actuals(
    measure: str, time_aggregation: str, values: Mapping[Period, Decimal | None]
) -> dict[Period, Decimal | None]:
    """The actual of every period of `values` (A per period, None for no data), by aggregation."""
    aggregation = effective_time_aggregation(measure, time_aggregation)
    actuals: dict[Period, Decimal | None] = {}
    running: Decimal | None = None
    for period in sorted(values):
        value = values[period]
        if aggregation == CUMULATIVE:
            if value is not None:
                running = value if running is None else running + value
            actuals[period] = running
        else:
            actuals[period] = value
    return actuals


def lop_actual(measure: str, time_aggregation: str, values: Mapping[Period, Decimal | None]) -> Decimal | None:
    """Life-of-programme actual: sum of A over periods with data, or A at the latest one."""
    with_data = {period: value for period, value in values.items() if value is not None}
    if not with_data:
        return None
    if effective_time_aggregation(measure, time_aggregation) == LATEST:
        return with_data[max(with_data)]
    return sum(with_data.values(), Decimal(0))


def lop_target(
    measure: str,
    time_aggregation: str,
    period_targets: Mapping[Period, Decimal | None],
    *,
    indicator_lop_target: Decimal | None = None,
) -> Decimal | None:
    """LoP target: `lop_target` (programme scope only: pass None elsewhere), else by aggregation."""
    if indicator_lop_target is not None:
        return Decimal(indicator_lop_target)
    defined = {period: value for period, value in period_targets.items() if value is not None}
    if not defined:
        return None
    if effective_time_aggregation(measure, time_aggregation) == SUM:
        return sum(defined.values(), Decimal(0))
    return defined[max(defined)]


def percent_of_target(actual: Decimal | None, target: Decimal | None, direction: str) -> Decimal | None:
    """100 × actual / target (increase) or 100 × target / actual (decrease); unrounded."""
    if actual is None or target is None:
        return None
    dividend, divisor = (actual, target) if direction == INCREASE else (target, actual)
    if divisor == 0:
        return None
    return divide(HUNDRED * Decimal(dividend), Decimal(divisor))


def percent_band(percent: Decimal) -> str:
    """Where a percent of target falls: below (< 85), on_track (85–115 inclusive), above (> 115)."""
    if percent < BELOW_THRESHOLD:
        return BELOW
    if percent > ABOVE_THRESHOLD:
        return ABOVE
    return ON_TRACK


def rollup_status(actual: Decimal | None, target: Decimal | None, stored_percent: Decimal | None) -> str:
    """A rollup row's status: no_data, no_target, else the band of its stored (2-place) percent."""
    if actual is None:
        return NO_DATA
    if target is None or target == 0:
        return NO_TARGET
    if stored_percent is None:
        # Only a `decrease` indicator with an actual of 0 gets here: nothing happened, best case.
        return ABOVE
    return percent_band(stored_percent)


@dataclass(frozen=True)
class Progress:
    """What one stored rollup row says: rounded actual, target, percent and the status."""

    actual: Decimal | None
    target: Decimal | None
    percent_of_target: Decimal | None
    status: str


def progress(actual: Decimal | None, target: Decimal | None, direction: str) -> Progress:
    """Round and judge one (actual, target) pair the way it is stored."""
    stored_percent = round_percent(percent_of_target(actual, target, direction))
    return Progress(
        actual=round_value(actual),
        target=round_value(target),
        percent_of_target=stored_percent,
        status=rollup_status(actual, target, stored_percent),
    )


# --- §4: progress to date --------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodRow:
    """One stored period row of a series (a scope and a disaggregation): its target and actual as
    the engine stores them. For a `cumulative` indicator the actual is the running total."""

    period_start: date
    period_end: date
    target: Decimal | None
    actual: Decimal | None


def has_ended(period_end: date, as_of: date) -> bool:
    """A period has ended by D when its last day is D or earlier: a report as of 30 June counts
    April–June."""
    return period_end <= as_of


@dataclass(frozen=True)
class ToDate:
    """Progress to date of one series as of a date: rounded target, actual, percent, status."""

    target: Decimal | None
    actual: Decimal | None
    percent_of_target: Decimal | None
    status: str


def progress_to_date(
    measure: str, time_aggregation: str, direction: str, periods: Iterable[PeriodRow], as_of: date
) -> ToDate:
    """Progress to date (docs/design.md §4): only the periods that have ended by `as_of` count.

    target_to_date: for `sum` the sum of their targets; for `cumulative` and `latest` the target of
    the last of them that has one (the indicator's `lop_target` never counts here). The actual to
    date is the LoP actual rule over them: the sum of their actuals (`sum`), the actual of the last
    of them that has one (`latest`; and `cumulative`, whose stored actual is the running total, so
    the last one is the sum over the ended periods). Percent and status as for any row, except that
    no ended period with a target is `no_target`, whatever the data.
    """
    aggregation = effective_time_aggregation(measure, time_aggregation)
    ended = sorted(
        (row for row in periods if has_ended(row.period_end, as_of)),
        key=lambda row: (row.period_start, row.period_end),
    )
    targets = [Decimal(row.target) for row in ended if row.target is not None]
    actuals = [Decimal(row.actual) for row in ended if row.actual is not None]
    if aggregation == SUM:
        target = sum(targets, Decimal(0)) if targets else None
        actual = sum(actuals, Decimal(0)) if actuals else None
    else:
        target = targets[-1] if targets else None
        actual = actuals[-1] if actuals else None
    stored_percent = round_percent(percent_of_target(actual, target, direction))
    status = NO_TARGET if target is None else rollup_status(actual, target, stored_percent)
    return ToDate(round_value(target), round_value(actual), stored_percent, status)


# --- §4: a whole indicator -------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorSpec:
    id: int
    programme_id: int
    measure: str
    time_aggregation: str
    direction: str
    lop_target: Decimal | None = None


@dataclass(frozen=True)
class ResultRow:
    """An approved result: the total when category and option are empty."""

    municipality_id: int
    period_start: date
    period_end: date
    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    category: str = ""
    option: str = ""


@dataclass(frozen=True)
class TargetRow:
    """A target; municipality_id None is programme-wide."""

    municipality_id: int | None
    period_start: date
    period_end: date
    value: Decimal


@dataclass(frozen=True)
class RollupCell:
    """One stored rollup row; period_start/period_end None for the life-of-programme row."""

    scope: str
    scope_id: int
    period_start: date | None
    period_end: date | None
    category: str
    option: str
    actual: Decimal | None
    target: Decimal | None
    percent_of_target: Decimal | None
    status: str
    # Life-of-programme rows only (docs/design.md §4, progress to date); None on period rows.
    target_to_date: Decimal | None = None
    percent_to_date: Decimal | None = None
    status_to_date: str | None = None

    @property
    def key(self) -> tuple:
        return (self.scope, self.scope_id, self.period_start, self.period_end, self.category, self.option)


def rollup_indicator(
    spec: IndicatorSpec,
    results: Iterable[ResultRow],
    targets: Iterable[TargetRow],
    twinning_members: Mapping[int, Iterable[int]],
    *,
    as_of: date,
) -> list[RollupCell]:
    """Every rollup row of one indicator, for the municipality, twinning and programme scopes.

    `twinning_members` maps each twinning of the programme to its *current* municipalities; a
    municipality that left a twinning no longer counts towards it. The programme scope is every
    municipality with counted results. A programme LoP total row always exists (no_data when
    nothing is known), so every indicator has at least one row. LoP rows carry their progress to
    date as of `as_of`, judged on the series' period rows as stored.
    """
    results = [row for row in results if counts_for(spec.measure, _as_value(row))]
    targets = list(targets)
    members = {twinning_id: set(ids) for twinning_id, ids in twinning_members.items()}

    # (scope, scope_id) -> the municipalities it covers, for the scopes that have anything.
    municipality_ids = {row.municipality_id for row in results} | {
        row.municipality_id for row in targets if row.municipality_id is not None
    }
    scopes: list[tuple[str, int, set[int] | None]] = [(SCOPE_MUNICIPALITY, mid, {mid}) for mid in municipality_ids]
    scopes += [(SCOPE_TWINNING, tid, mids) for tid, mids in members.items()]
    scopes.append((SCOPE_PROGRAMME, spec.programme_id, None))

    cells: list[RollupCell] = []
    for scope, scope_id, covered in scopes:
        in_scope = [row for row in results if covered is None or row.municipality_id in covered]
        scope_targets: dict[Period, Decimal | None] = {}
        by_period: dict[Period, list[TargetRow]] = defaultdict(list)
        for row in targets:
            by_period[(row.period_start, row.period_end)].append(row)
        for period, rows in by_period.items():
            municipal = [row.value for row in rows if row.municipality_id is not None and _covers(covered, row)]
            programme_wide = None
            if scope == SCOPE_PROGRAMME:
                programme_wide = next((row.value for row in rows if row.municipality_id is None), None)
            if scope == SCOPE_MUNICIPALITY:
                value = municipal[0] if municipal else None
            else:
                value = scope_target(spec.measure, programme_wide=programme_wide, municipality_targets=municipal)
            if value is not None:
                scope_targets[period] = value

        disaggregations = {(row.category, row.option) for row in in_scope} | {("", "")}
        for category, option in sorted(disaggregations):
            rows = [row for row in in_scope if (row.category, row.option) == (category, option)]
            grouped: dict[Period, list[ResultValue]] = defaultdict(list)
            for row in rows:
                grouped[(row.period_start, row.period_end)].append(_as_value(row))
            values: dict[Period, Decimal | None] = {
                period: period_value(spec.measure, vs) for period, vs in grouped.items()
            }
            cell_targets = scope_targets if category == "" else {}
            for period in cell_targets:
                values.setdefault(period, None)
            actuals = period_actuals(spec.measure, spec.time_aggregation, values)
            stored_periods: list[PeriodRow] = []
            for period, actual in actuals.items():
                target = cell_targets.get(period)
                if actual is None and target is None:
                    continue
                period_cell = _cell(spec, scope, scope_id, period, category, option, actual, target)
                cells.append(period_cell)
                stored_periods.append(PeriodRow(*period, period_cell.target, period_cell.actual))
            is_programme_total = scope == SCOPE_PROGRAMME and category == ""
            total_lop_target = lop_target(
                spec.measure,
                spec.time_aggregation,
                cell_targets,
                indicator_lop_target=spec.lop_target if is_programme_total else None,
            )
            total_lop_actual = lop_actual(spec.measure, spec.time_aggregation, values)
            if total_lop_actual is None and total_lop_target is None and not is_programme_total:
                continue
            to_date = progress_to_date(spec.measure, spec.time_aggregation, spec.direction, stored_periods, as_of)
            lop_cell = _cell(spec, scope, scope_id, (None, None), category, option, total_lop_actual, total_lop_target)
            cells.append(
                replace(
                    lop_cell,
                    target_to_date=to_date.target,
                    percent_to_date=to_date.percent_of_target,
                    status_to_date=to_date.status,
                )
            )
    return cells


def _covers(covered: set[int] | None, row: TargetRow) -> bool:
    return covered is None or row.municipality_id in covered


def _as_value(row: ResultRow) -> ResultValue:
    return ResultValue(row.municipality_id, row.value, row.numerator, row.denominator)


def _cell(spec, scope, scope_id, period, category, option, actual, target) -> RollupCell:
    judged = progress(actual, target, spec.direction)
    return RollupCell(
        scope=scope,
        scope_id=scope_id,
        period_start=period[0],
        period_end=period[1],
        category=category,
        option=option,
        actual=judged.actual,
        target=judged.target,
        percent_of_target=judged.percent_of_target,
        status=judged.status,
    )


# --- §5: alignment ----------------------------------------------------------------------------


def indicator_progress(lop_percent_of_target: Decimal | None) -> Decimal | None:
    """π(I) = min(LoP percent_of_target at programme scope, total, 100); None = not measurable."""
    if lop_percent_of_target is None:
        return None
    return min(Decimal(lop_percent_of_target), HUNDRED)


def aligned_progress_status(progress: Decimal | None) -> str:
    """The colour of an aligned progress (π, or a mean of π): no_data when nothing is measurable,
    else its band. π is capped at 100, so it is never `above`."""
    if progress is None:
        return NO_DATA
    return percent_band(progress)


def weighted_progress(weighted: Iterable[tuple[Decimal, Decimal | None]]) -> Decimal | None:
    """Σ w·π / Σ w over the pairs with π defined; None when none (or all weights are 0)."""
    pairs = [(Decimal(weight), Decimal(pi)) for weight, pi in weighted if pi is not None]
    total_weight = sum((weight for weight, _ in pairs), Decimal(0))
    if not pairs or total_weight == 0:
        return None
    return divide(sum((weight * pi for weight, pi in pairs), Decimal(0)), total_weight)


def mean_progress(values: Iterable[Decimal | None]) -> Decimal | None:
    """Unweighted mean of the defined π values (matrix cells); None when none."""
    defined = [Decimal(value) for value in values if value is not None]
    if not defined:
        return None
    return divide(sum(defined, Decimal(0)), Decimal(len(defined)))


def goal_subtrees(parent_of: Mapping[int, int | None]) -> dict[int, set[int]]:
    """Each funder goal → itself and every goal below it. Cycles (bad data) are cut, not looped."""
    children: dict[int, list[int]] = defaultdict(list)
    for goal, parent in parent_of.items():
        if parent is not None:
            children[parent].append(goal)
    subtrees: dict[int, set[int]] = {}
    for goal in parent_of:
        seen = {goal}
        stack = [goal]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        subtrees[goal] = seen
    return subtrees


def goal_weights(goal: int, subtree: Iterable[int], own: Mapping[int, Mapping[int, Decimal]]) -> dict[int, Decimal]:
    """The indicators a funder goal counts and their weights: its own and those of every goal in
    `subtree` (itself and the goals below it; `own` maps each goal to its own alignments). An
    indicator aligned to several goals of one subtree counts once; its weight is the one on the
    goal itself if it is aligned there, else on the goal of lowest id. The alignment report and
    the goal's page both read the weights from here."""
    merged: dict[int, Decimal] = {}
    for member in sorted(subtree, key=lambda g: (g != goal, g)):
        for indicator, weight in own.get(member, {}).items():
            merged.setdefault(indicator, weight)
    return merged


@dataclass(frozen=True)
class WorkstreamFootprint:
    """What the overlap rule needs of a workstream."""

    programme_id: int
    theme_id: int
    municipality_ids: frozenset[int]


@dataclass(frozen=True)
class ProgrammeFacts:
    start_date: date
    end_date: date
    donor_ids: frozenset[int]


@dataclass(frozen=True)
class Overlap:
    municipality_id: int
    theme_id: int
    programme_ids: tuple[int, ...]
    donor_ids: tuple[int, ...]


def find_overlaps(
    workstreams: Iterable[WorkstreamFootprint], programmes: Mapping[int, ProgrammeFacts]
) -> list[Overlap]:
    """(municipality, theme) pairs where workstreams of ≥ 2 programmes with different donor sets
    and overlapping date ranges include the municipality. Lists the programmes involved in at
    least one such conflicting pair and their donors."""
    by_place: dict[tuple[int, int], set[int]] = defaultdict(set)
    for footprint in workstreams:
        for municipality_id in footprint.municipality_ids:
            by_place[(municipality_id, footprint.theme_id)].add(footprint.programme_id)
    overlaps: list[Overlap] = []
    for (municipality_id, theme_id), programme_ids in sorted(by_place.items()):
        involved: set[int] = set()
        ordered = sorted(programme_ids)
        for index, first in enumerate(ordered):
            for second in ordered[index + 1 :]:
                a, b = programmes[first], programmes[second]
                if a.donor_ids != b.donor_ids and a.start_date <= b.end_date and b.start_date <= a.end_date:
                    involved |= {first, second}
        if involved:
            donors = sorted(set().union(*(programmes[pid].donor_ids for pid in involved)))
            overlaps.append(Overlap(municipality_id, theme_id, tuple(sorted(involved)), tuple(donors)))
    return overlaps


@dataclass
class AlignmentInputs:
    """Plain inputs of the §5 report."""

    # indicator id -> LoP percent_of_target (programme scope, total), None if undefined
    lop_percent: Mapping[int, Decimal | None]
    indicator_programme: Mapping[int, int]
    # (indicator id, national target id, weight)
    national_alignments: Sequence[tuple[int, int, Decimal]]
    # (indicator id, funder goal id, weight)
    goal_alignments: Sequence[tuple[int, int, Decimal]]
    national_target_ids: Sequence[int]
    goal_parent: Mapping[int, int | None]
    programme_donors: Mapping[int, frozenset[int]]
    # indicator id -> municipalities with counted results (programme scope)
    indicator_municipalities: Mapping[int, frozenset[int]]
    workstreams: Sequence[WorkstreamFootprint] = ()
    programmes: Mapping[int, ProgrammeFacts] = field(default_factory=dict)
    # indicator id -> percent_to_date (programme scope, total), None if undefined
    percent_to_date: Mapping[int, Decimal | None] = field(default_factory=dict)


@dataclass
class TargetProgress:
    """One national target or funder goal in the report."""

    id: int
    progress: Decimal | None
    indicators: list[int]
    not_measurable: list[int]
    programmes: list[int]
    donors: list[int]
    municipalities: list[int]
    progress_to_date: Decimal | None = None


@dataclass
class MatrixCell:
    national_target: int
    funder_goal: int
    progress: Decimal | None
    indicators: list[int]
    programmes: list[int]
    donors: list[int]
    municipalities: list[int]
    progress_to_date: Decimal | None = None


@dataclass
class AlignmentReport:
    national_targets: list[TargetProgress]
    funder_goals: list[TargetProgress]
    matrix: list[MatrixCell]
    gap_national_targets: list[int]
    gap_funder_goals: list[int]
    overlaps: list[Overlap]


def alignment_report(inputs: AlignmentInputs) -> AlignmentReport:
    """§5 over plain data. Only indicators present in `inputs.indicator_programme` count.

    Progress to date is the same rule over π to date = min(percent_to_date, 100) (docs/design.md
    §4, progress to date): same weights, same indicators."""
    known = inputs.indicator_programme
    pi = {indicator: indicator_progress(inputs.lop_percent.get(indicator)) for indicator in known}
    pi_to_date = {indicator: indicator_progress(inputs.percent_to_date.get(indicator)) for indicator in known}

    def summary(target_id: int, weighted: dict[int, Decimal]) -> TargetProgress:
        indicators = sorted(weighted)
        programmes = sorted({known[i] for i in indicators})
        return TargetProgress(
            id=target_id,
            progress=weighted_progress((weighted[i], pi[i]) for i in indicators),
            progress_to_date=weighted_progress((weighted[i], pi_to_date[i]) for i in indicators),
            indicators=indicators,
            not_measurable=[i for i in indicators if pi[i] is None],
            programmes=programmes,
            donors=sorted(set().union(*(inputs.programme_donors.get(p, frozenset()) for p in programmes))),
            municipalities=sorted(
                set().union(*(inputs.indicator_municipalities.get(i, frozenset()) for i in indicators))
            ),
        )

    national: dict[int, dict[int, Decimal]] = {target: {} for target in inputs.national_target_ids}
    for indicator, target, weight in inputs.national_alignments:
        if indicator in known and target in national:
            national[target][indicator] = Decimal(weight)

    subtrees = goal_subtrees(inputs.goal_parent)
    own: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for indicator, goal, weight in inputs.goal_alignments:
        if indicator in known and goal in subtrees:
            own[goal][indicator] = Decimal(weight)
    goals = {goal: goal_weights(goal, subtree, own) for goal, subtree in subtrees.items()}

    matrix: list[MatrixCell] = []
    for target in sorted(national):
        for goal in sorted(goals):
            shared = sorted(set(national[target]) & set(goals[goal]))
            if shared:
                cell = summary(0, {i: Decimal(1) for i in shared})
                matrix.append(
                    MatrixCell(
                        national_target=target,
                        funder_goal=goal,
                        progress=mean_progress(pi[i] for i in shared),
                        progress_to_date=mean_progress(pi_to_date[i] for i in shared),
                        indicators=shared,
                        programmes=cell.programmes,
                        donors=cell.donors,
                        municipalities=cell.municipalities,
                    )
                )
    nationally_aligned = set().union(*national.values()) if national else set()
    return AlignmentReport(
        national_targets=[summary(target, national[target]) for target in sorted(national)],
        funder_goals=[summary(goal, goals[goal]) for goal in sorted(goals)],
        matrix=matrix,
        gap_national_targets=sorted(target for target, weighted in national.items() if not weighted),
        gap_funder_goals=sorted(goal for goal, weighted in goals.items() if not set(weighted) & nationally_aligned),
        overlaps=find_overlaps(inputs.workstreams, inputs.programmes),
    )
