"""Progress to date (docs/design.md §4), the pure rule: a table per time aggregation × measure, the
edges of "ended by D", and a property test against a brute-force restatement of the contract."""

from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators.periods import periods_between
from rollups import rollup_math as rm
from rollups.rollup_math import PeriodRow, ResultRow, TargetRow

D = Decimal
# Four quarters of 2025, and a date in each gap: before any ends, after Q1, after Q2, after all.
Q1, Q2, Q3, Q4 = (
    (date(2025, 1, 1), date(2025, 3, 31)),
    (date(2025, 4, 1), date(2025, 6, 30)),
    (date(2025, 7, 1), date(2025, 9, 30)),
    (date(2025, 10, 1), date(2025, 12, 31)),
)


def rows(*entries):
    """(period, target, actual) → stored period rows (None: not set)."""
    return [PeriodRow(*period, None if t is None else D(t), None if a is None else D(a)) for period, t, a in entries]


def judged(measure, aggregation, periods, as_of, direction="increase"):
    to_date = rm.progress_to_date(measure, aggregation, direction, periods, as_of)
    return (to_date.target, to_date.actual, to_date.percent_of_target, to_date.status)


def d6(value):
    return D(value).quantize(D("0.000001"))


# --- one table per time aggregation × measure -------------------------------------------------
# Halfway through the year (as of 30 June: Q1 and Q2 have ended), the LoP target is not what
# "on track" means. Each case: the stored period rows, then (target, actual, percent, status) to date.

SUM_ROWS = rows((Q1, 100, 90), (Q2, 100, 95), (Q3, 100, 200), (Q4, 100, None))
CUMULATIVE_ROWS = rows((Q1, 10, 8), (Q2, 20, 17), (Q3, 30, 40), (Q4, 40, None))  # targets and actuals running
LATEST_ROWS = rows((Q1, 50, 40), (Q2, None, 47), (Q3, 70, 90), (Q4, 80, None))

TABLE = [
    # number × sum: the targets and the actuals of Q1 and Q2 are summed; Q3's 200 has not ended.
    ("number", "sum", SUM_ROWS, date(2025, 6, 30), (d6(200), d6(185), D("92.50"), "on_track")),
    ("number", "sum", SUM_ROWS, date(2025, 9, 30), (d6(300), d6(385), D("128.33"), "above")),
    # number × cumulative: the running total and the running target of the last ended period.
    ("number", "cumulative", CUMULATIVE_ROWS, date(2025, 6, 30), (d6(20), d6(17), D("85.00"), "on_track")),
    ("number", "cumulative", CUMULATIVE_ROWS, date(2025, 12, 31), (d6(40), d6(40), D("100.00"), "on_track")),
    # number × latest: Q2 has no target of its own, so the target to date is Q1's; the actual Q2's.
    ("number", "latest", LATEST_ROWS, date(2025, 6, 30), (d6(50), d6(47), D("94.00"), "on_track")),
    ("number", "latest", LATEST_ROWS, date(2025, 12, 31), (d6(80), d6(90), D("112.50"), "on_track")),
    # percentage and score behave as `latest` whatever their time aggregation says.
    ("percentage", "sum", LATEST_ROWS, date(2025, 6, 30), (d6(50), d6(47), D("94.00"), "on_track")),
    ("percentage", "cumulative", LATEST_ROWS, date(2025, 9, 30), (d6(70), d6(90), D("128.57"), "above")),
    ("score", "sum", LATEST_ROWS, date(2025, 3, 31), (d6(50), d6(40), D("80.00"), "below")),
    ("score", "latest", LATEST_ROWS, date(2025, 12, 31), (d6(80), d6(90), D("112.50"), "on_track")),
]


@pytest.mark.parametrize(("measure", "aggregation", "periods", "as_of", "expected"), TABLE)
def test_progress_to_date_by_time_aggregation_and_measure(measure, aggregation, periods, as_of, expected):
    assert judged(measure, aggregation, periods, as_of) == expected


def test_a_period_has_ended_on_its_last_day_not_before():
    assert judged("number", "sum", SUM_ROWS, date(2025, 3, 31))[:2] == (d6(100), d6(90))
    assert judged("number", "sum", SUM_ROWS, date(2025, 3, 30)) == (None, None, None, "no_target")


def test_no_ended_period_with_a_target_is_no_target_whatever_the_data():
    periods = rows((Q1, None, 30), (Q2, 100, 40))
    assert judged("number", "sum", periods, date(2025, 5, 1)) == (None, d6(30), None, "no_target")
    assert judged("number", "sum", [], date(2030, 1, 1)) == (None, None, None, "no_target")


def test_a_target_due_without_data_is_no_data():
    assert judged("number", "sum", rows((Q1, 100, None)), date(2025, 4, 1)) == (d6(100), None, None, "no_data")


def test_a_target_of_zero_to_date_is_no_target():
    assert judged("number", "latest", rows((Q1, 0, 5)), date(2025, 4, 1))[3] == "no_target"


def test_decrease_divides_the_target_by_the_actual():
    # Waiting days: target 10, actual 8 → 125 %, above; an actual of 0 beats any target.
    assert judged("number", "latest", rows((Q1, 10, 8)), date(2025, 4, 1), "decrease")[2:] == (D("125.00"), "above")
    assert judged("number", "latest", rows((Q1, 10, 0)), date(2025, 4, 1), "decrease")[2:] == (None, "above")


def test_periods_are_taken_in_order_whatever_order_they_come_in():
    assert judged("number", "latest", list(reversed(LATEST_ROWS)), date(2025, 6, 30)) == judged(
        "number", "latest", LATEST_ROWS, date(2025, 6, 30)
    )


def test_the_lop_target_of_the_indicator_never_counts_to_date():
    """The programme total's LoP target is `lop_target`; its target to date is the periods'."""
    spec = rm.IndicatorSpec(1, 100, "number", "sum", "increase", lop_target=D(1000))
    results = [ResultRow(1, *Q1, D(45)), ResultRow(1, *Q2, D(50)), ResultRow(1, *Q3, D(60))]
    targets = [TargetRow(None, *period, D(50)) for period in (Q1, Q2, Q3, Q4)]
    cells = rm.rollup_indicator(spec, results, targets, {}, as_of=date(2025, 7, 15))
    (lop,) = [c for c in cells if c.scope == "programme" and c.period_start is None]
    assert (lop.target, lop.percent_of_target, lop.status) == (d6(1000), D("15.50"), "below")
    assert (lop.target_to_date, lop.percent_to_date, lop.status_to_date) == (d6(100), D("95.00"), "on_track")
    assert all(c.status_to_date is None for c in cells if c.period_start is not None)


def test_disaggregated_lop_rows_have_no_target_to_date():
    spec = rm.IndicatorSpec(1, 100, "number", "sum", "increase")
    results = [ResultRow(1, *Q1, D(10)), ResultRow(1, *Q1, D(4), category="sex", option="female")]
    cells = rm.rollup_indicator(spec, results, [TargetRow(None, *Q1, D(10))], {}, as_of=date(2025, 12, 31))
    female = next(c for c in cells if c.option == "female" and c.scope == "programme" and c.period_start is None)
    assert (female.target_to_date, female.percent_to_date, female.status_to_date) == (None, None, "no_target")


# --- property: the rule against a brute-force restatement of the contract ------------------

_WIDE = Context(prec=80, rounding=ROUND_HALF_UP)
PERIODS = periods_between(date(2024, 1, 1), date(2026, 12, 31), "quarterly", 1)  # twelve quarters

amounts = st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False, allow_infinity=False)


def brute_force(measure, aggregation, direction, raw, targets, as_of):
    """docs/design.md §4 restated from the period values A(p) (not from the stored running
    totals): the periods ended by D count; the target to date is the sum (`sum`) or the last ended
    target; the actual to date the LoP actual over them; percent and status as for any row."""
    kind = aggregation if measure == "number" else "latest"
    ended = [index for index, (_start, end) in enumerate(PERIODS) if end <= as_of]
    with_target = [index for index in ended if targets[index] is not None]
    with_data = [index for index in ended if raw[index] is not None]
    if kind == "sum":
        target = sum((targets[i] for i in with_target), D(0)) if with_target else None
    else:
        target = targets[with_target[-1]] if with_target else None
    if kind == "latest":
        actual = raw[with_data[-1]] if with_data else None
    else:  # sum and cumulative: the sum over the ended periods with data
        actual = sum((raw[i] for i in with_data), D(0)) if with_data else None
    actual = None if actual is None else actual.quantize(D("0.000001"))
    target = None if target is None else target.quantize(D("0.000001"))
    percent = None
    if actual is not None and target is not None:
        dividend, divisor = (actual, target) if direction == "increase" else (target, actual)
        if divisor != 0:
            with localcontext(_WIDE):
                percent = (100 * dividend / divisor).quantize(D(1).scaleb(-20)).quantize(D("0.01"))
    if target is None:
        status = "no_target"
    elif actual is None:
        status = "no_data"
    elif target == 0:
        status = "no_target"
    elif percent is None:
        status = "above"
    else:
        status = "below" if percent < 85 else "above" if percent > 115 else "on_track"
    return target, actual, percent, status


@given(
    measure=st.sampled_from(["number", "number", "percentage", "score"]),
    aggregation=st.sampled_from(["sum", "cumulative", "latest"]),
    direction=st.sampled_from(["increase", "decrease"]),
    raw=st.lists(st.one_of(st.none(), amounts), min_size=12, max_size=12),
    targets=st.lists(st.one_of(st.none(), amounts), min_size=12, max_size=12),
    as_of=st.dates(min_value=date(2023, 12, 1), max_value=date(2027, 2, 1)),
)
def test_progress_to_date_equals_the_contract_restated(measure, aggregation, direction, raw, targets, as_of):
    # The stored period rows, as the engine writes them: a row where there is data or a target,
    # the actual by the aggregation (running totals for cumulative), both rounded to 6 places.
    values = {period: raw[index] for index, period in enumerate(PERIODS)}
    actuals = rm.period_actuals(measure, aggregation, values)
    stored = [
        PeriodRow(*period, rm.round_value(targets[index]), rm.round_value(actuals[period]))
        for index, period in enumerate(PERIODS)
        if actuals[period] is not None or targets[index] is not None
    ]
    assert judged(measure, aggregation, stored, as_of, direction) == brute_force(
        measure, aggregation, direction, raw, targets, as_of
    )


def test_aligned_progress_to_date_is_section_5_over_pi_to_date():
    """π to date = min(percent_to_date, 100), with the same weights and indicators as π."""
    inputs = rm.AlignmentInputs(
        lop_percent={1: D(40), 2: D(30), 3: D(20)},
        percent_to_date={1: D(150), 2: D(70), 3: None},
        indicator_programme={1: 9, 2: 9, 3: 9},
        national_alignments=[(1, 100, D(1)), (2, 100, D(3)), (3, 100, D(1))],
        goal_alignments=[(1, 200, D(1)), (2, 200, D(1))],
        national_target_ids=[100],
        goal_parent={200: None},
        programme_donors={},
        indicator_municipalities={},
    )
    report = rm.alignment_report(inputs)
    (national,) = report.national_targets
    assert national.progress == rm.divide(D(40 + 90 + 20), D(5))
    assert national.progress_to_date == D(77.5)  # (1·100 + 3·70) / 4; indicator 3 has nothing due yet
    (goal,) = report.funder_goals
    assert goal.progress_to_date == D(85)  # (100 + 70) / 2
    (cell,) = report.matrix
    assert (cell.progress, cell.progress_to_date) == (D(35), D(85))
