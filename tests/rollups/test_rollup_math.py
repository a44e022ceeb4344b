"""The pure rules of docs/design.md §4 and §5, one test per table row or clause, plus properties."""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollups import rollup_math as rm
from rollups.rollup_math import ResultRow, ResultValue, TargetRow

Q1, Q2, Q3, Q4 = (
    (date(2025, 1, 1), date(2025, 3, 31)),
    (date(2025, 4, 1), date(2025, 6, 30)),
    (
        date(2025, 7, 1),
        date(2025, 9, 30),
    ),
    (date(2025, 10, 1), date(2025, 12, 31)),
)
LOP = (None, None)
AS_OF = date(2025, 12, 31)  # every quarter above has ended


def spec(measure="number", aggregation="sum", direction="increase", lop_target=None):
    return rm.IndicatorSpec(1, 100, measure, aggregation, direction, lop_target)


def result(municipality, period, value, numerator=None, denominator=None, category="", option=""):
    return ResultRow(municipality, period[0], period[1], D(value), numerator, denominator, category, option)


def cells_by_key(cells):
    return {cell.key: cell for cell in cells}


def cell(cells, scope, scope_id, period, category="", option=""):
    return cells_by_key(cells)[(scope, scope_id, period[0], period[1], category, option)]


# --- A(p, S) by measure ------------------------------------------------------------------------


def test_number_is_the_sum_of_values():
    assert rm.period_value("number", [ResultValue(1, D("3.5")), ResultValue(2, D("4"))]) == D("7.5")


def test_percentage_pools_numerators_and_denominators():
    # 1/2 = 50 % and 99/100 = 99 %: pooled 100/102, not the average 74.5 %.
    pooled = rm.period_value("percentage", [ResultValue(1, D(50), D(1), D(2)), ResultValue(2, D(99), D(99), D(100))])
    assert rm.round_percent(pooled) == D("98.04")


def test_score_is_the_arithmetic_mean():
    assert rm.period_value("score", [ResultValue(1, D(2)), ResultValue(2, D(3)), ResultValue(3, D(5))]) == rm.divide(
        D(10), D(3)
    )


def test_no_counted_result_is_no_data_not_zero():
    assert rm.period_value("number", []) is None
    assert rm.period_value("percentage", [ResultValue(1, D(40))]) is None  # no parts: cannot pool


# --- actuals by time aggregation ---------------------------------------------------------------

VALUES = {Q1: D(10), Q2: None, Q3: D(5), Q4: D(7)}


def test_sum_period_actual_is_a_and_lop_is_the_sum():
    assert rm.period_actuals("number", "sum", VALUES) == {Q1: D(10), Q2: None, Q3: D(5), Q4: D(7)}
    assert rm.lop_actual("number", "sum", VALUES) == D(22)


def test_cumulative_period_actual_is_the_running_total_and_lop_the_sum():
    assert rm.period_actuals("number", "cumulative", VALUES) == {Q1: D(10), Q2: D(10), Q3: D(15), Q4: D(22)}
    assert rm.lop_actual("number", "cumulative", VALUES) == D(22)


def test_cumulative_is_undefined_before_the_first_data():
    assert rm.period_actuals("number", "cumulative", {Q1: None, Q2: D(3)}) == {Q1: None, Q2: D(3)}


def test_latest_period_actual_is_a_and_lop_is_the_latest_with_data():
    assert rm.period_actuals("number", "latest", VALUES) == VALUES
    assert rm.lop_actual("number", "latest", {Q1: D(10), Q3: D(5), Q4: None}) == D(5)


def test_percentage_and_score_behave_as_latest_whatever_the_aggregation():
    for measure in ("percentage", "score"):
        for aggregation in ("sum", "cumulative", "latest"):
            assert rm.effective_time_aggregation(measure, aggregation) == "latest"
            assert rm.lop_actual(measure, aggregation, VALUES) == D(7)
            assert rm.period_actuals(measure, aggregation, VALUES)[Q3] == D(5)


# --- targets -----------------------------------------------------------------------------------


def test_programme_wide_target_wins_over_municipality_targets():
    assert rm.scope_target("number", programme_wide=D(50), municipality_targets=[D(10), D(20)]) == D(50)


def test_combined_target_is_a_sum_for_numbers_and_a_mean_otherwise():
    assert rm.scope_target("number", programme_wide=None, municipality_targets=[D(10), D(20)]) == D(30)
    assert rm.scope_target("percentage", programme_wide=None, municipality_targets=[D(10), D(20)]) == D(15)
    assert rm.scope_target("score", programme_wide=None, municipality_targets=[D(1), D(2)]) == D("1.5")
    assert rm.scope_target("number", programme_wide=None, municipality_targets=[]) is None


def test_lop_target_prefers_the_indicator_lop_target():
    assert rm.lop_target("number", "sum", {Q1: D(10)}, indicator_lop_target=D(99)) == D(99)


def test_lop_target_sums_period_targets_for_sum_indicators():
    assert rm.lop_target("number", "sum", {Q1: D(10), Q2: None, Q3: D(5)}) == D(15)


def test_lop_target_is_the_last_period_target_for_cumulative_and_latest():
    assert rm.lop_target("number", "cumulative", {Q1: D(10), Q3: D(25), Q4: None}) == D(25)
    assert rm.lop_target("number", "latest", {Q1: D(10), Q3: D(25)}) == D(25)
    assert rm.lop_target("percentage", "sum", {Q1: D(10), Q3: D(25)}) == D(25)  # behaves as latest
    assert rm.lop_target("number", "sum", {}) is None


# --- progress ----------------------------------------------------------------------------------


def test_percent_of_target_for_increase_and_decrease():
    assert rm.percent_of_target(D(50), D(200), "increase") == D(25)
    assert rm.percent_of_target(D(50), D(200), "decrease") == D(400)


def test_percent_of_target_undefined_when_a_side_is_undefined_or_the_divisor_zero():
    assert rm.percent_of_target(None, D(1), "increase") is None
    assert rm.percent_of_target(D(1), None, "increase") is None
    assert rm.percent_of_target(D(1), D(0), "increase") is None
    assert rm.percent_of_target(D(0), D(5), "decrease") is None


def test_status_thresholds_are_inclusive_on_track():
    def status(actual, target):
        return rm.progress(D(actual), D(target), "increase").status

    assert status("84.99", 100) == "below"
    assert status(85, 100) == "on_track"
    assert status(115, 100) == "on_track"
    assert status("115.01", 100) == "above"
    assert status("84.995", 100) == "on_track"  # judged on the stored 85.00 %


@pytest.mark.parametrize(
    ("percent", "band"), [("84.99", "below"), ("85", "on_track"), ("115", "on_track"), ("115.01", "above")]
)
def test_a_percent_of_target_falls_in_one_band_with_both_edges_on_track(percent, band):
    assert rm.percent_band(D(percent)) == band


@pytest.mark.parametrize(
    ("lop_percent", "status"),
    [(None, "no_data"), ("84.99", "below"), ("85", "on_track"), ("115", "on_track"), ("115.01", "on_track")],
)
def test_aligned_progress_is_judged_on_the_same_band_but_never_above(lop_percent, status):
    """π is capped at 100 (§5), so an indicator far above its target is on track here."""
    pi = rm.indicator_progress(None if lop_percent is None else D(lop_percent))
    assert rm.aligned_progress_status(pi) == status
    assert rm.aligned_progress_status(rm.weighted_progress([(D(2), pi), (D(1), pi)])) == status


def test_status_no_data_and_no_target():
    assert rm.progress(None, D(10), "increase").status == "no_data"
    assert rm.progress(D(10), None, "increase").status == "no_target"
    assert rm.progress(D(10), D(0), "increase").status == "no_target"
    assert rm.progress(D(0), D(5), "decrease").status == "above"


def test_percentages_are_rounded_half_up_only_when_stored():
    assert rm.round_percent(D("12.345")) == D("12.35")
    assert rm.round_percent(D("-12.345")) == D("-12.35")
    stored = rm.progress(D(1), D(3), "increase")
    assert stored.percent_of_target == D("33.33")
    assert stored.target == D("3.000000")


# --- a whole indicator -------------------------------------------------------------------------


def test_rollup_indicator_scopes_targets_and_lop():
    results = [
        result(1, Q1, 10),
        result(2, Q1, 30),
        result(3, Q1, 5),  # left the twinning: counts for the programme, not for the twinning
        result(1, Q2, 20),
        result(1, Q1, 4, category="sex", option="female"),
    ]
    targets = [TargetRow(1, *Q1, D(10)), TargetRow(2, *Q1, D(40)), TargetRow(None, *Q2, D(100))]
    cells = rm.rollup_indicator(spec(lop_target=D(200)), results, targets, {7: {1, 2}}, as_of=AS_OF)

    twinning_q1 = cell(cells, "twinning", 7, Q1)
    assert (twinning_q1.actual, twinning_q1.target, twinning_q1.status) == (D(40), D(50), "below")
    programme_q1 = cell(cells, "programme", 100, Q1)
    assert (programme_q1.actual, programme_q1.target) == (D(45), D(50))
    programme_q2 = cell(cells, "programme", 100, Q2)
    assert (programme_q2.actual, programme_q2.target, programme_q2.percent_of_target) == (D(20), D(100), D(20))
    programme_lop = cell(cells, "programme", 100, LOP)
    assert (programme_lop.actual, programme_lop.target) == (D(65), D(200))
    assert cell(cells, "twinning", 7, LOP).target == D(50)  # no lop_target below the programme
    female = cell(cells, "programme", 100, Q1, "sex", "female")
    assert (female.actual, female.target, female.status) == (D(4), None, "no_target")
    assert cell(cells, "municipality", 3, Q1).actual == D(5)


def test_indicator_without_anything_has_one_programme_lop_row():
    cells = rm.rollup_indicator(spec(), [], [], {}, as_of=AS_OF)
    assert [(c.scope, c.period_start, c.status) for c in cells] == [("programme", None, "no_data")]


def test_indicator_without_results_shows_targets_as_no_data():
    cells = rm.rollup_indicator(spec(lop_target=D(5)), [], [TargetRow(None, *Q1, D(10))], {}, as_of=AS_OF)
    assert {(c.period_start, c.target, c.status) for c in cells} == {
        (Q1[0], D("10.000000"), "no_data"),
        (None, D("5.000000"), "no_data"),
    }


# --- §5 --------------------------------------------------------------------------------------


def test_indicator_progress_is_capped_at_100_and_undefined_stays_undefined():
    assert rm.indicator_progress(D(140)) == D(100)
    assert rm.indicator_progress(D(40)) == D(40)
    assert rm.indicator_progress(None) is None


def test_national_target_progress_is_weighted_over_defined_indicators():
    assert rm.weighted_progress([(D(1), D(100)), (D(3), D(20)), (D(5), None)]) == D(40)
    assert rm.weighted_progress([(D(1), None)]) is None


def test_goal_subtrees_include_descendants_and_survive_cycles():
    assert rm.goal_subtrees({1: None, 2: 1, 3: 2, 4: None}) == {1: {1, 2, 3}, 2: {2, 3}, 3: {3}, 4: {4}}
    assert rm.goal_subtrees({1: 2, 2: 1}) == {1: {1, 2}, 2: {1, 2}}


def alignment_inputs(**overrides):
    base = {
        "lop_percent": {10: D(50), 11: D(150), 12: None, 13: D(80)},
        "indicator_programme": {10: 1, 11: 1, 12: 2, 13: 2},
        "national_alignments": [(10, 100, D(1)), (11, 100, D(3)), (12, 100, D(1)), (13, 101, D(1))],
        "goal_alignments": [(10, 200, D(1)), (11, 201, D(1)), (13, 203, D(1))],
        "national_target_ids": [100, 101, 102],
        "goal_parent": {200: None, 201: 200, 202: None, 203: None},
        "programme_donors": {1: frozenset({7}), 2: frozenset({8})},
        "indicator_municipalities": {10: frozenset({50}), 11: frozenset({51}), 13: frozenset({52})},
    }
    base.update(overrides)
    return rm.AlignmentInputs(**base)


def test_alignment_report_national_targets_goals_matrix_and_gaps():
    report = rm.alignment_report(alignment_inputs())
    national = {item.id: item for item in report.national_targets}
    assert national[100].progress == D("87.5")  # (1·50 + 3·100) / 4; indicator 12 not measurable
    assert national[100].not_measurable == [12]
    assert national[100].programmes == [1, 2] and national[100].donors == [7, 8]
    assert national[100].municipalities == [50, 51]
    goals = {item.id: item for item in report.funder_goals}
    assert goals[200].indicators == [10, 11]  # its own and its child's
    assert goals[200].progress == D(75)
    assert goals[201].indicators == [11]
    matrix = {(c.national_target, c.funder_goal): c for c in report.matrix}
    assert set(matrix) == {(100, 200), (100, 201), (101, 203)}
    assert matrix[(100, 200)].progress == D(75)  # unweighted mean over the shared indicators
    assert report.gap_national_targets == [102]
    assert report.gap_funder_goals == [202]


def test_funder_goal_is_a_gap_when_none_of_its_indicators_is_nationally_aligned():
    report = rm.alignment_report(alignment_inputs(national_alignments=[(13, 101, D(1))]))
    assert report.gap_funder_goals == [200, 201, 202]


def test_overlaps_need_different_donor_sets_and_overlapping_dates():
    programmes = {
        1: rm.ProgrammeFacts(date(2025, 1, 1), date(2026, 12, 31), frozenset({7})),
        2: rm.ProgrammeFacts(date(2026, 1, 1), date(2027, 12, 31), frozenset({8})),
        3: rm.ProgrammeFacts(date(2025, 1, 1), date(2027, 12, 31), frozenset({7})),
        4: rm.ProgrammeFacts(date(2028, 1, 1), date(2029, 12, 31), frozenset({9})),
    }
    footprints = [
        rm.WorkstreamFootprint(1, 5, frozenset({50})),
        rm.WorkstreamFootprint(2, 5, frozenset({50, 51})),
        rm.WorkstreamFootprint(3, 5, frozenset({51})),  # same donors as 1 but not with it at 51
        rm.WorkstreamFootprint(4, 5, frozenset({50})),  # different donors, but later
        rm.WorkstreamFootprint(3, 6, frozenset({50})),
    ]
    overlaps = rm.find_overlaps(footprints, programmes)
    assert overlaps == [rm.Overlap(50, 5, (1, 2), (7, 8)), rm.Overlap(51, 5, (2, 3), (7, 8))]


# --- properties --------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False)
periods = st.sampled_from([Q1, Q2, Q3, Q4])


@st.composite
def result_sets(draw):
    rows = draw(
        st.lists(
            st.tuples(st.integers(1, 4), periods, amounts, st.integers(0, 50), st.integers(1, 50)),
            max_size=12,
            unique_by=lambda row: (row[0], row[1]),
        )
    )
    return [result(m, p, v, D(min(n, d)), D(d)) for m, p, v, n, d in rows]


@given(
    result_sets(),
    st.sampled_from(["number", "percentage", "score"]),
    st.sampled_from(["sum", "cumulative", "latest"]),
    st.randoms(),
)
def test_result_order_does_not_matter(rows, measure, aggregation, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    first = rm.rollup_indicator(spec(measure, aggregation), rows, [], {1: {1, 2}}, as_of=AS_OF)
    second = rm.rollup_indicator(spec(measure, aggregation), shuffled, [], {1: {1, 2}}, as_of=AS_OF)
    assert sorted(first, key=repr) == sorted(second, key=repr)


@given(result_sets())
def test_sum_lop_equals_the_sum_of_period_actuals(rows):
    cells = rm.rollup_indicator(spec("number", "sum"), rows, [], {}, as_of=AS_OF)
    programme = [c for c in cells if c.scope == "programme" and c.category == ""]
    periodic = [c.actual for c in programme if c.period_start is not None and c.actual is not None]
    lop = next(c for c in programme if c.period_start is None)
    assert lop.actual == (sum(periodic, D(0)) if periodic else None)


@given(st.lists(st.tuples(st.integers(0, 100), st.integers(1, 100)), min_size=1, max_size=8))
def test_percentages_pool_parts(parts):
    values = [ResultValue(i, D(0), D(min(n, d)), D(d)) for i, (n, d) in enumerate(parts)]
    expected = rm.divide(D(100) * sum(v.numerator for v in values), sum(v.denominator for v in values))
    assert rm.period_value("percentage", values) == expected


@given(amounts.filter(lambda a: a > 0), amounts.filter(lambda t: t > 0))
def test_decrease_inverts_the_ratio(actual, target):
    assert rm.percent_of_target(actual, target, "decrease") == rm.percent_of_target(target, actual, "increase")


@given(
    st.sampled_from(["number", "percentage", "score"]),
    st.sampled_from(["sum", "cumulative", "latest"]),
    st.lists(periods, unique=True),
)
def test_undefined_stays_undefined(measure, aggregation, empty_periods):
    values = dict.fromkeys(empty_periods)
    assert all(actual is None for actual in rm.period_actuals(measure, aggregation, values).values())
    assert rm.lop_actual(measure, aggregation, values) is None
    assert rm.progress(None, D(10), "increase") == rm.Progress(None, D("10.000000"), None, "no_data")


# --- the worked examples of docs/rollups.md ------------------------------------------------------

OCT, JAN, APR = (
    (date(2025, 10, 1), date(2025, 12, 31)),
    (date(2026, 1, 1), date(2026, 3, 31)),
    (
        date(2026, 4, 1),
        date(2026, 6, 30),
    ),
)


def programme_rows(indicator_spec, results, targets):
    cells = rm.rollup_indicator(indicator_spec, results, targets, {9: {1, 2}}, as_of=AS_OF)
    return {
        c.period_start: (c.actual, c.target, c.percent_of_target, c.status)
        for c in cells
        if c.scope == "programme" and c.category == ""
    }


DOC_RESULTS = [result(1, OCT, 12), result(2, OCT, 8), result(1, APR, 10)]


def test_docs_sum_example():
    rows = programme_rows(
        spec("number", "sum"), DOC_RESULTS, [TargetRow(None, *OCT, D(22)), TargetRow(None, *APR, D(20))]
    )
    assert rows[OCT[0]] == (D(20), D(22), D("90.91"), "on_track")
    assert rows[APR[0]] == (D(10), D(20), D("50.00"), "below")
    assert rows[None] == (D(30), D(42), D("71.43"), "below")


def test_docs_cumulative_example():
    targets = [TargetRow(None, *OCT, D(20)), TargetRow(None, *JAN, D(30)), TargetRow(None, *APR, D(40))]
    rows = programme_rows(spec("number", "cumulative"), DOC_RESULTS, targets)
    assert rows[JAN[0]] == (D(20), D(30), D("66.67"), "below")
    assert rows[APR[0]] == (D(30), D(40), D("75.00"), "below")
    assert rows[None] == (D(30), D(40), D("75.00"), "below")


def test_docs_latest_percentage_example():
    results = [result(1, OCT, 30, D(30), D(100)), result(2, OCT, 90, D(45), D(50)), result(1, APR, 60, D(60), D(100))]
    targets = [TargetRow(1, *APR, D(55)), TargetRow(2, *APR, D(70))]
    rows = programme_rows(spec("percentage", "sum"), results, targets)
    assert rows[OCT[0]] == (D(50), None, None, "no_target")
    assert rows[None] == (D(60), D("62.5"), D("96.00"), "on_track")
    assert programme_rows(spec("percentage", "sum", lop_target=D(80)), results, targets)[None][2:] == (
        D("75.00"),
        "below",
    )
