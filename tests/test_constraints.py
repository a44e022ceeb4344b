"""The invariants the database itself holds: even code that skips the services cannot break them."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from indicators.models import Alignment, Result, Target
from partners.models import Organisation
from projects.models import Activity, Programme
from tests.factories import (
    ActivityFactory,
    FunderGoalFactory,
    IndicatorFactory,
    MunicipalityFactory,
    NationalTargetFactory,
    ProgrammeFactory,
    ResultFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date


def rejected(make) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_two_totals_for_the_same_cell_are_impossible():
    result = ResultFactory()
    rejected(
        lambda: Result.objects.create(
            indicator=result.indicator,
            municipality=result.municipality,
            period_start=result.period_start,
            period_end=result.period_end,
            value=Decimal(1),
        )
    )
    assert Result.objects.count() == 1


def test_the_same_disaggregated_cell_twice_is_impossible_but_other_options_are_fine():
    result = ResultFactory(disaggregation_category="sex", disaggregation_option="female")
    same = {
        "indicator": result.indicator,
        "municipality": result.municipality,
        "period_start": result.period_start,
        "period_end": result.period_end,
        "value": Decimal(2),
        "disaggregation_category": "sex",
    }
    rejected(lambda: Result.objects.create(**same, disaggregation_option="female"))
    Result.objects.create(**same, disaggregation_option="male")
    assert Result.objects.count() == 2


def test_a_disaggregation_needs_both_category_and_option():
    rejected(lambda: ResultFactory(disaggregation_category="sex", disaggregation_option=""))


def test_period_end_must_follow_start():
    rejected(lambda: ResultFactory(period_start=D(2025, 3, 31), period_end=D(2025, 1, 1)))
    rejected(lambda: TargetFactory(period_start=D(2025, 3, 31), period_end=D(2025, 3, 31)))


@pytest.mark.parametrize(
    ("numerator", "denominator"), [(Decimal(-1), Decimal(10)), (Decimal(1), Decimal(0)), (Decimal(1), None)]
)
def test_percentage_parts_must_be_sane(numerator, denominator):
    rejected(lambda: ResultFactory(numerator=numerator, denominator=denominator))


def test_an_alignment_points_to_exactly_one_target_or_goal():
    indicator = IndicatorFactory()
    rejected(lambda: Alignment.objects.create(indicator=indicator))
    rejected(
        lambda: Alignment.objects.create(
            indicator=indicator, national_target=NationalTargetFactory(), funder_goal=FunderGoalFactory()
        )
    )


def test_weights_and_populations_are_not_negative():
    rejected(
        lambda: Alignment.objects.create(
            indicator=IndicatorFactory(), national_target=NationalTargetFactory(), weight=-1
        )
    )
    rejected(lambda: Organisation.objects.filter(pk=MunicipalityFactory().pk).update(population=-5))


def test_one_programme_wide_target_per_period():
    target = TargetFactory(municipality=None)
    rejected(
        lambda: Target.objects.create(
            indicator=target.indicator, period_start=target.period_start, period_end=target.period_end, value=1
        )
    )
    municipality = MunicipalityFactory()
    Target.objects.create(
        indicator=target.indicator,
        municipality=municipality,
        period_start=target.period_start,
        period_end=target.period_end,
        value=1,
    )
    rejected(
        lambda: Target.objects.create(
            indicator=target.indicator,
            municipality=municipality,
            period_start=target.period_start,
            period_end=target.period_end,
            value=2,
        )
    )


def test_programme_and_activity_dates_are_ordered():
    rejected(lambda: ProgrammeFactory(start_date=D(2026, 1, 1), end_date=D(2025, 1, 1)))
    rejected(lambda: ActivityFactory(start_date=D(2026, 1, 2), end_date=D(2026, 1, 1)))
    assert not Programme.objects.exists()
    assert not Activity.objects.exists()


def test_fiscal_year_start_month_is_a_month():
    rejected(lambda: ProgrammeFactory(fiscal_year_start_month=13))
