"""Recomputing one indicator costs the same number of queries whatever its size (the set-based
engine of docs/design.md §2)."""

import random
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from indicators.models import Result, Target
from indicators.periods import periods_between
from rollups import engine
from rollups.models import Rollup
from rollups.queue import schedule_cell_recompute
from tests.factories import IndicatorFactory, MunicipalityFactory, ProgrammeFactory, TwinningFactory

pytestmark = pytest.mark.django_db


def build_indicator(municipalities: int, periods: int) -> int:
    programme = ProgrammeFactory()
    towns = MunicipalityFactory.create_batch(municipalities)
    TwinningFactory(programme=programme, municipalities=towns[: municipalities // 2])
    TwinningFactory(programme=programme, municipalities=towns[municipalities // 2 :])
    indicator = IndicatorFactory(programme=programme, frequency="monthly", time_aggregation="cumulative")
    rng = random.Random(municipalities * 1000 + periods)
    spans = periods_between(date(2025, 1, 1), date(2040, 1, 1), "monthly", 1)[:periods]
    Result.objects.bulk_create(
        Result(
            indicator=indicator,
            municipality=town,
            period_start=start,
            period_end=end,
            disaggregation_category=category,
            disaggregation_option=option,
            value=Decimal(rng.randint(0, 99)),
            status="approved",
        )
        for town in towns
        for start, end in spans
        for category, option in [("", ""), ("sex", "female"), ("sex", "male")]
    )
    Target.objects.bulk_create(
        Target(indicator=indicator, municipality=town, period_start=start, period_end=end, value=Decimal(50))
        for town in [None, *towns]
        for start, end in spans
    )
    return indicator.id


def queries_to_recompute(indicator_id: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        engine.recompute_indicators([indicator_id])
    return len(captured.captured_queries)


@pytest.mark.parametrize(("small", "large"), [((2, 4), (50, 4)), ((2, 4), (2, 40)), ((2, 4), (50, 40))])
def test_query_count_does_not_grow_with_municipalities_or_periods(small, large):
    small_id, large_id = build_indicator(*small), build_indicator(*large)
    first_small, first_large = queries_to_recompute(small_id), queries_to_recompute(large_id)
    assert first_small == first_large
    assert first_large <= 10
    assert Rollup.objects.filter(indicator_id=large_id).count() > Rollup.objects.filter(indicator_id=small_id).count()
    # A second run (everything already stored, nothing to correct) costs the same.
    assert queries_to_recompute(large_id) == first_large


def queries_to_recompute_one_cell(indicator_id: int) -> int:
    result = Result.objects.filter(indicator_id=indicator_id, disaggregation_category="sex").first()
    with transaction.atomic():
        schedule_cell_recompute(cells=[(indicator_id, result.municipality_id, "sex", result.disaggregation_option)])
    with CaptureQueriesContext(connection) as captured:
        summary = engine.recompute_requested_cells(indicator_id)
    assert summary.indicators == 1
    return len(captured.captured_queries)


def test_cell_recompute_query_count_does_not_grow_either(django_capture_on_commit_callbacks):
    small_id, large_id = build_indicator(2, 4), build_indicator(50, 40)
    engine.recompute_indicators([small_id, large_id])
    with django_capture_on_commit_callbacks(execute=False):
        assert queries_to_recompute_one_cell(small_id) == queries_to_recompute_one_cell(large_id) <= 10
