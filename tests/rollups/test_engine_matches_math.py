"""The SQL engine gives exactly the numbers of the pure rules (docs/design.md §4), value for value."""

import random
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from indicators.models import Result
from rollups import engine, rollup_math
from rollups.models import Rollup
from rollups.queue import pending_indicator_ids, schedule_cell_recompute
from tests.factories import IndicatorFactory, MunicipalityFactory, ResultFactory, TargetFactory
from tests.rollups.rollup_data import generate_programme

pytestmark = pytest.mark.django_db


NUMBERS = ("actual", "target", "percent_of_target", "status", "target_to_date", "percent_to_date", "status_to_date")
# Inside the random programmes' periods (from January 2024), so that some have ended and some not.
AS_OF = date(2025, 5, 15)


def numbers(row) -> tuple:
    return tuple(getattr(row, name) for name in NUMBERS)


def stored_cells(indicator_id: int) -> dict[tuple, tuple]:
    return {
        (
            row.scope,
            row.scope_id,
            row.period_start,
            row.period_end,
            row.disaggregation_category,
            row.disaggregation_option,
        ): numbers(row)
        for row in Rollup.objects.filter(indicator_id=indicator_id)
    }


def pure_cells(cells) -> dict[tuple, tuple]:
    return {cell.key: numbers(cell) for cell in cells}


def expected_cells(item, twinning_members, as_of=AS_OF) -> dict[tuple, tuple]:
    return pure_cells(
        rollup_math.rollup_indicator(item.spec, item.results, item.targets, twinning_members, as_of=as_of)
    )


@pytest.mark.parametrize("seed", range(8))
def test_engine_equals_pure_rules_on_random_programmes(seed):
    rng = random.Random(seed)
    generated = generate_programme(rng, municipalities=rng.randint(2, 5), periods=rng.randint(3, 8))

    summary = engine.recompute_indicators([item.spec.id for item in generated.indicators], as_of=AS_OF)

    assert summary.indicators == len(generated.indicators)
    compared = 0
    to_date = set()
    for item in generated.indicators:
        expected = expected_cells(item, generated.twinning_members)
        assert stored_cells(item.spec.id) == expected, item.spec
        compared += len(expected)
        to_date |= {values[-1] for key, values in expected.items() if key[2] is None}
    assert summary.rows_written == compared
    assert {"below", "no_target"} <= to_date  # the progress to date was compared, not only its absence


def test_second_run_corrects_nothing_and_python_path_agrees():
    rng = random.Random(99)
    generated = generate_programme(rng)
    first = engine.recompute_programme(generated.programme_id)
    again = engine.recompute_programme(generated.programme_id)
    today = Rollup.objects.filter(indicator__programme_id=generated.programme_id, period_start__isnull=True)
    assert set(today.values_list("as_of", flat=True)) == {timezone.localdate()}
    assert first.rows_corrected == first.rows_written > 0
    assert again.rows_corrected == 0
    assert again.rows_written == first.rows_written
    # The portable (SQLite demo) path reads the same data and reaches the same cells.
    ids = [item.spec.id for item in generated.indicators]
    portable = engine.desired_cells(ids)
    for item in generated.indicators:
        assert pure_cells(portable[item.spec.id]) == stored_cells(item.spec.id)


def all_stored(indicator_ids) -> dict:
    return {indicator_id: stored_cells(indicator_id) for indicator_id in indicator_ids}


@pytest.mark.parametrize("seed", range(4))
def test_cell_recompute_after_result_changes_equals_a_full_recompute(seed, django_capture_on_commit_callbacks):
    rng = random.Random(1000 + seed)
    generated = generate_programme(rng, municipalities=4, periods=5)
    ids = [item.spec.id for item in generated.indicators]
    engine.recompute_indicators(ids, as_of=AS_OF)

    changed = []
    approved = list(Result.objects.filter(indicator_id__in=ids, status="approved"))
    for result in rng.sample(approved, min(6, len(approved))):
        if rng.random() < 0.5:
            result.value += Decimal(rng.randint(1, 50))
            result.save(update_fields=["value"])
        else:
            result.status = "returned"  # no longer counts: may empty a whole group
            result.save(update_fields=["status"])
        changed.append(result)
    pending = list(Result.objects.filter(indicator_id__in=ids).exclude(status="approved")[:3])
    for result in pending:
        result.status = "approved"
        result.save(update_fields=["status"])
        changed.append(result)
    with django_capture_on_commit_callbacks(execute=False):
        schedule_cell_recompute(
            cells=[
                (r.indicator_id, r.municipality_id, r.disaggregation_category, r.disaggregation_option) for r in changed
            ]
        )
    for indicator_id in {r.indicator_id for r in changed}:
        engine.recompute_requested_cells(indicator_id, as_of=AS_OF)
    narrowed = all_stored(ids)
    assert pending_indicator_ids(ids) == set()

    Rollup.objects.filter(indicator_id__in=ids).delete()
    engine.recompute_indicators(ids, as_of=AS_OF)
    assert narrowed == all_stored(ids)


def test_cell_recompute_with_nothing_requested_does_nothing():
    generated = generate_programme(random.Random(5), municipalities=2, periods=2, indicators=2)
    ids = [item.spec.id for item in generated.indicators]
    engine.recompute_indicators(ids)
    assert engine.recompute_requested_cells(ids[1]).indicators == 0


@pytest.mark.parametrize("aggregation", ["latest", "cumulative"])
def test_periods_sharing_a_start_follow_the_pure_rules_order(aggregation):
    """An indicator whose frequency changed after entry (quarterly, then monthly) has two periods
    starting on 1 January: the later end comes last, whatever the values."""
    indicator = IndicatorFactory(time_aggregation=aggregation, frequency="monthly")
    municipality = MunicipalityFactory()
    for end, value, target in ((date(2025, 1, 31), "9", "20"), (date(2025, 3, 31), "4", "10")):
        ResultFactory(
            indicator=indicator,
            municipality=municipality,
            period_start=date(2025, 1, 1),
            period_end=end,
            value=Decimal(value),
            status="approved",
        )
        TargetFactory(indicator=indicator, period_start=date(2025, 1, 1), period_end=end, value=Decimal(target))

    engine.recompute_indicators([indicator.id])

    pure = engine.desired_cells([indicator.id])[indicator.id]
    assert stored_cells(indicator.id) == pure_cells(pure)
    lop = Rollup.objects.get(indicator=indicator, scope="municipality", period_start__isnull=True)
    quarter = Rollup.objects.get(indicator=indicator, scope="municipality", period_end=date(2025, 3, 31))
    if aggregation == "latest":
        assert lop.actual == Decimal(4)  # the January-to-March value, though January's is larger
        assert quarter.actual == Decimal(4)
    else:
        assert lop.actual == Decimal(13)
        assert quarter.actual == Decimal(13)  # January (9) first, then the quarter (4)
    programme_lop = Rollup.objects.get(indicator=indicator, scope="programme", period_start__isnull=True)
    assert programme_lop.target == Decimal(10)  # not summed: the latest target, January to March


@pytest.mark.parametrize(
    "as_of",
    [date(2023, 12, 31), date(2024, 3, 31), date(2026, 6, 30), date(2032, 1, 1)],
    ids=["nothing-ended", "first-quarter-ends-that-day", "midway", "everything-ended"],
)
def test_progress_to_date_as_of_any_date_equals_the_pure_rule(as_of):
    generated = generate_programme(random.Random(40), municipalities=3, periods=8)
    engine.recompute_indicators([item.spec.id for item in generated.indicators], as_of=as_of)
    for item in generated.indicators:
        assert stored_cells(item.spec.id) == expected_cells(item, generated.twinning_members, as_of=as_of), item.spec
