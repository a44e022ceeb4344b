"""National targets, funder goal trees, alignments and indicators: the rules their services keep."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from indicators import services
from indicators.models import Alignment, FunderGoal, Target
from tests.factories import (
    DonorFactory,
    FunderGoalFactory,
    IndicatorFactory,
    MunicipalityFactory,
    NationalTargetFactory,
    ResultFactory,
    TargetFactory,
    TwinningFactory,
    WorkstreamFactory,
)

pytestmark = pytest.mark.django_db


def test_sdg_target_codes_are_checked_and_normalised():
    target = services.national_target_create(code="NT-1", title_en="Services", sdg_targets=["16.7", "11.3", "11.3"])
    assert target.sdg_targets == ["11.3", "16.7"]
    with pytest.raises(ValidationError) as raised:
        services.national_target_create(code="NT-2", title_en="Bad", sdg_targets=["11.3", "SDG 99"])
    assert "SDG 99" in " ".join(raised.value.message_dict["sdg_targets"])


def test_a_goal_tree_cannot_loop_or_cross_donors():
    donor = DonorFactory()
    objective = services.funder_goal_create(donor=donor, code="DO1", title_en="Objective")
    result = services.funder_goal_create(donor=donor, code="IR1.1", title_en="Result", parent=objective)
    with pytest.raises(ValidationError) as raised:
        services.funder_goal_update(funder_goal=objective, parent=result)
    assert "its own ancestor" in " ".join(raised.value.message_dict["parent"])
    with pytest.raises(ValidationError) as raised:
        services.funder_goal_create(donor=DonorFactory(), code="X", title_en="Other", parent=objective)
    assert "same donor" in " ".join(raised.value.message_dict["parent"])
    assert FunderGoal.objects.get(pk=objective.pk).parent is None


def test_funder_goals_belong_to_donors():
    with pytest.raises(ValidationError) as raised:
        services.funder_goal_create(donor=MunicipalityFactory(), code="G", title_en="Goal")
    assert "donor" in raised.value.message_dict


def test_an_alignment_needs_exactly_one_side_and_a_sane_weight():
    indicator = IndicatorFactory()
    with pytest.raises(ValidationError):
        services.alignment_create(indicator=indicator)
    with pytest.raises(ValidationError):
        services.alignment_create(
            indicator=indicator, national_target=NationalTargetFactory(), funder_goal=FunderGoalFactory()
        )
    with pytest.raises(ValidationError) as raised:
        services.alignment_create(indicator=indicator, national_target=NationalTargetFactory(), weight=-2)
    assert "weight" in raised.value.message_dict
    target = NationalTargetFactory()
    services.alignment_create(indicator=indicator, national_target=target, weight="2.5")
    with pytest.raises(ValidationError) as raised:
        services.alignment_create(indicator=indicator, national_target=target)
    assert "already aligned" in " ".join(raised.value.messages)
    assert Alignment.objects.get().weight == Decimal("2.5")


def test_indicator_disaggregations_are_known_categories():
    indicator = IndicatorFactory()
    with pytest.raises(ValidationError) as raised:
        services.indicator_update(indicator=indicator, disaggregations=["sex", "religion"])
    assert "religion" in " ".join(raised.value.message_dict["disaggregations"])
    services.indicator_update(indicator=indicator, disaggregations=["sex", "disability"])
    assert sorted(indicator.disaggregations.values_list("code", flat=True)) == ["disability", "sex"]


def test_categories_in_use_cannot_be_dropped():
    ghadames = MunicipalityFactory()
    indicator = IndicatorFactory()
    TwinningFactory(programme=indicator.programme, municipalities=[ghadames, MunicipalityFactory()])
    services.indicator_update(indicator=indicator, disaggregations=["sex"])
    ResultFactory(
        indicator=indicator, municipality=ghadames, disaggregation_category="sex", disaggregation_option="male"
    )
    with pytest.raises(ValidationError) as raised:
        services.indicator_update(indicator=indicator, disaggregations=[])
    assert "sex" in " ".join(raised.value.message_dict["disaggregations"])


def test_frequency_is_fixed_once_periods_exist():
    indicator = IndicatorFactory(frequency="quarterly")
    services.target_set(
        indicator=indicator, period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 3, 31), value=4
    )
    with pytest.raises(ValidationError) as raised:
        services.indicator_update(indicator=indicator, frequency="annual")
    assert "frequency" in raised.value.message_dict
    indicator.refresh_from_db()
    assert indicator.frequency == "quarterly"


def test_an_indicators_workstream_is_in_its_programme():
    with pytest.raises(ValidationError) as raised:
        services.indicator_create(
            programme=IndicatorFactory().programme, code="X1", name_en="X", workstream=WorkstreamFactory()
        )
    assert "workstream" in raised.value.message_dict


def test_targets_are_set_once_per_cell_and_can_be_replaced():
    indicator = IndicatorFactory()
    cell = {"indicator": indicator, "period_start": datetime.date(2025, 1, 1), "period_end": datetime.date(2025, 3, 31)}
    services.target_set(**cell, value=Decimal(10))
    services.target_set(**cell, value=Decimal(12))
    assert list(indicator.targets.values_list("value", flat=True)) == [Decimal(12)]
    with pytest.raises(ValidationError) as raised:
        services.target_set(**cell, value=Decimal(-1))
    assert "value" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        services.target_set(**cell, value=Decimal(1), municipality=MunicipalityFactory())
    assert "does not take part" in " ".join(raised.value.message_dict["municipality"])


def test_an_indicator_stays_in_its_programme():
    indicator = IndicatorFactory()
    same = services.indicator_update(indicator=indicator, programme=indicator.programme, name_en="Renamed")
    assert same.name_en == "Renamed"  # the whole object sent back, programme unchanged: accepted
    with pytest.raises(ValidationError) as raised:
        services.indicator_update(indicator=indicator, programme=IndicatorFactory().programme, name_en="Moved")
    assert raised.value.message_dict["programme"] == ["An indicator cannot move to another programme."]
    indicator.refresh_from_db()
    assert (indicator.programme_id, indicator.name_en) == (same.programme_id, "Renamed")


def test_a_target_moves_between_indicators_of_its_programme_only():
    target = TargetFactory()
    sibling = IndicatorFactory(programme=target.indicator.programme)
    with pytest.raises(ValidationError) as raised:
        services.target_update(target=target, indicator=IndicatorFactory())
    assert raised.value.message_dict["indicator"] == ["A target cannot move to another programme."]
    assert Target.objects.get().indicator_id == target.indicator_id
    assert services.target_update(target=target, indicator=sibling).indicator_id == sibling.pk


def test_a_funder_goal_stays_with_its_donor():
    goal = FunderGoalFactory()
    assert services.funder_goal_update(funder_goal=goal, donor=goal.donor, title_en="Kept").title_en == "Kept"
    with pytest.raises(ValidationError) as raised:
        services.funder_goal_update(funder_goal=goal, donor=DonorFactory())
    assert raised.value.message_dict["donor"] == ["A goal cannot move to another donor."]
    assert FunderGoal.objects.get(pk=goal.pk).donor_id == goal.donor_id
