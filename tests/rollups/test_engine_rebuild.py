"""The bulk rebuild (`engine.rebuild_indicators`, what `recompute_all` runs on PostgreSQL) stores
exactly the rows of the per-indicator path, from empty and over stale, wrong or obsolete rows."""

import random
from decimal import Decimal

import pytest

from indicators.models import Result
from rollups import engine
from rollups.models import Rollup
from tests.rollups.rollup_data import generate_programme

pytestmark = pytest.mark.django_db

VALUE_FIELDS = (
    "indicator_id",
    "scope",
    "scope_id",
    "period_start",
    "period_end",
    "disaggregation_category",
    "disaggregation_option",
    "actual",
    "target",
    "percent_of_target",
    "status",
)


def stored(ids) -> set[tuple]:
    return set(Rollup.objects.filter(indicator_id__in=ids).values_list(*VALUE_FIELDS))


@pytest.mark.parametrize("seed", range(4))
def test_rebuild_gives_exactly_the_rows_of_the_incremental_path(seed):
    rng = random.Random(2000 + seed)
    generated = [generate_programme(rng, municipalities=rng.randint(2, 5), periods=rng.randint(3, 7)) for _ in range(2)]
    ids = [item.spec.id for programme in generated for item in programme.indicators]

    by_indicator = engine.recompute_in_chunks(ids, chunk=3)
    expected = stored(ids)
    assert len(expected) == by_indicator.rows_written > 0

    Rollup.objects.filter(indicator_id__in=ids).delete()
    from_empty = engine.rebuild_indicators(ids)
    assert stored(ids) == expected
    assert from_empty.rows_written == from_empty.rows_corrected == len(expected)
    assert from_empty.indicators == len(ids)

    again = engine.recompute_all()  # the nightly reconcile: nothing to correct
    assert again.rows_corrected == 0
    assert again.rows_written == len(expected)
    assert stored(ids) == expected

    # Damage the stored rows (one wrong, one missing, one obsolete) and change a source value:
    # the rebuild repairs all of it and counts each correction, as the per-indicator path would.
    rows = list(Rollup.objects.filter(indicator_id__in=ids).order_by("id")[:2])
    Rollup.objects.filter(pk=rows[0].pk).update(actual=Decimal("123456.000000"), status="above")
    Rollup.objects.filter(pk=rows[1].pk).delete()
    Rollup.objects.create(
        indicator_id=ids[0],
        scope="municipality",
        scope_id=999_999,
        period_start=None,
        period_end=None,
        actual=None,
        target=None,
        status="no_data",
        computed_at=rows[0].computed_at,
    )
    result = Result.objects.filter(indicator_id__in=ids, status="approved").order_by("id").first()
    Result.objects.filter(pk=result.pk).update(value=(result.value or 0) + 7)
    repaired = engine.rebuild_indicators(ids)
    assert repaired.rows_corrected >= 3

    rebuilt = stored(ids)
    Rollup.objects.filter(indicator_id__in=ids).delete()
    engine.recompute_indicators(ids)
    assert rebuilt == stored(ids)


def test_the_full_reconcile_removes_rollups_whose_indicator_is_gone():
    rng = random.Random(77)
    ids = [item.spec.id for item in generate_programme(rng, municipalities=2, periods=3).indicators]
    engine.recompute_all()
    kept = stored(ids)
    row = Rollup.objects.filter(indicator_id__in=ids).first()
    missing_indicator = max(ids) + 1000  # no foreign key in the database: a stray row can exist
    Rollup.objects.create(
        indicator_id=missing_indicator,
        scope=row.scope,
        scope_id=row.scope_id,
        period_start=None,
        period_end=None,
        status="no_data",
        computed_at=row.computed_at,
    )

    reconciled = engine.recompute_all()

    assert reconciled.rows_corrected == 1
    assert not Rollup.objects.filter(indicator_id=missing_indicator).exists()
    assert stored(ids) == kept


def test_a_period_row_that_shares_its_start_with_a_live_one_is_removed():
    """After an indicator's frequency changes, a month and the quarter it opens share a start; the
    month's rollups must go once no result is left in it, by the cell recompute and the reconcile."""
    from datetime import date

    from tests.factories import IndicatorFactory, MunicipalityFactory, ResultFactory

    indicator = IndicatorFactory(frequency="monthly")
    municipality = MunicipalityFactory()
    result = ResultFactory(
        indicator=indicator,
        municipality=municipality,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        value=4,
        status="approved",
    )
    engine.recompute_indicators([indicator.pk])
    Result.objects.filter(pk=result.pk).update(period_end=date(2026, 3, 31))
    engine.recompute_indicators([indicator.pk])
    ends = set(
        Rollup.objects.filter(indicator=indicator, period_start=date(2026, 1, 1)).values_list("period_end", flat=True)
    )
    assert ends == {date(2026, 3, 31)}
