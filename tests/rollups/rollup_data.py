"""Random programmes for comparing the SQL engine with the pure rules (seeded, reproducible)."""

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from indicators.models import Indicator, Result, Target
from indicators.periods import periods_between
from rollups import rollup_math
from tests.factories import IndicatorFactory, MunicipalityFactory, ProgrammeFactory, TwinningFactory

DISAGGREGATIONS = [("", ""), ("sex", "female"), ("sex", "male"), ("age", "youth"), ("disability", "with_disability")]


@dataclass
class GeneratedIndicator:
    spec: rollup_math.IndicatorSpec
    results: list[rollup_math.ResultRow] = field(default_factory=list)
    targets: list[rollup_math.TargetRow] = field(default_factory=list)


@dataclass
class GeneratedProgramme:
    programme_id: int
    twinning_members: dict[int, set[int]]
    indicators: list[GeneratedIndicator]


def _decimal(rng: random.Random, low: int = 0, high: int = 500) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / Decimal(100) + Decimal(rng.choice([0, 0, 1, 3])) / 10000


def generate_programme(
    rng: random.Random, *, municipalities: int = 4, periods: int = 6, indicators: int = 6
) -> GeneratedProgramme:
    """A programme with twinnings (one municipality has left one), and indicators of every kind.

    Writes everything with bulk_create; returns the same data as plain values for the pure rules.
    """
    fiscal_month = rng.choice([1, 7, 10])
    programme = ProgrammeFactory(fiscal_year_start_month=fiscal_month)
    towns = MunicipalityFactory.create_batch(municipalities)
    leaver = MunicipalityFactory()  # reports results, but has left its twinning
    twinnings = {}
    for _ in range(rng.randint(1, 3)):
        chosen = rng.sample(towns, rng.randint(1, len(towns)))
        twinning = TwinningFactory(programme=programme, municipalities=[*chosen, leaver])
        twinning.municipalities.remove(leaver)
        twinnings[twinning.id] = {town.id for town in chosen}
    empty = TwinningFactory(programme=programme)  # a twinning with no municipality (left)
    twinnings[empty.id] = set()
    reporters = [*towns, leaver]

    generated = []
    results, targets = [], []
    for index in range(indicators):
        measure = rng.choice(["number", "number", "percentage", "score"])
        frequency = rng.choice(["monthly", "quarterly", "semiannual", "annual"])
        indicator = IndicatorFactory(
            programme=programme,
            measure=measure,
            time_aggregation=rng.choice(["sum", "cumulative", "latest"]),
            direction=rng.choice(["increase", "increase", "decrease"]),
            frequency=frequency,
            lop_target=rng.choice([None, None, _decimal(rng, 0, 2000), Decimal(0)]),
        )
        all_periods = periods_between(date(2024, 1, 1), date(2031, 12, 31), frequency, fiscal_month)[:periods]
        spec = rollup_math.IndicatorSpec(
            indicator.id, programme.id, measure, indicator.time_aggregation, indicator.direction, indicator.lop_target
        )
        item = GeneratedIndicator(spec)
        if index == 0:
            generated.append(item)  # no results, no targets
            continue
        for start, end in all_periods:
            if rng.random() < 0.25:
                continue  # a gap: nobody reported this period
            for town in reporters:
                for category, option in DISAGGREGATIONS:
                    if rng.random() < 0.4:
                        continue
                    status = rng.choice(["approved", "approved", "approved", "submitted", "draft"])
                    numerator = denominator = None
                    if measure == "percentage" or rng.random() < 0.2:
                        denominator = Decimal(rng.randint(1, 400))
                        numerator = Decimal(rng.randint(0, int(denominator)))
                        if rng.random() < 0.1 and measure == "percentage":
                            numerator = denominator = None  # entered before the measure changed
                    value = (
                        (Decimal(100) * numerator / denominator).quantize(Decimal("0.0001"))
                        if numerator is not None
                        else _decimal(rng, 0, 300)
                    )
                    results.append(
                        Result(
                            indicator=indicator,
                            municipality=town,
                            period_start=start,
                            period_end=end,
                            disaggregation_category=category,
                            disaggregation_option=option,
                            value=value,
                            numerator=numerator,
                            denominator=denominator,
                            status=status,
                        )
                    )
                    if status == "approved":
                        item.results.append(
                            rollup_math.ResultRow(town.id, start, end, value, numerator, denominator, category, option)
                        )
            for town in [None, *towns]:
                if rng.random() < 0.5:
                    continue
                value = rng.choice([_decimal(rng, 0, 1000), _decimal(rng, 0, 1000), Decimal(0)])
                targets.append(
                    Target(
                        indicator=indicator,
                        municipality=town,
                        period_start=start,
                        period_end=end,
                        value=value,
                    )
                )
                item.targets.append(rollup_math.TargetRow(town.id if town else None, start, end, value))
        generated.append(item)
    Result.objects.bulk_create(results)
    Target.objects.bulk_create(targets)
    assert Indicator.objects.filter(programme=programme).count() == indicators
    return GeneratedProgramme(programme.id, twinnings, generated)
