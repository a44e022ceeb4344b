"""What a result may hold (docs/design.md §4), checked in the services every write path shares."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from indicators import services
from indicators.models import Indicator, Result
from indicators.services import BulkValidationError, ResultRow
from tests.factories import (
    DonorFactory,
    IndicatorFactory,
    MunicipalityFactory,
    ProgrammeFactory,
    TwinningFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Q1 = (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))


@pytest.fixture
def setting():
    programme = ProgrammeFactory(donors=[DonorFactory()])
    municipality = MunicipalityFactory()
    TwinningFactory(programme=programme, municipalities=[municipality, MunicipalityFactory()])
    return programme, municipality


def row(indicator: Indicator, municipality, **numbers) -> ResultRow:
    return ResultRow(indicator.pk, municipality.pk, *Q1, **numbers)


def refusals(indicator, municipality, **numbers) -> dict[str, str]:
    with pytest.raises(BulkValidationError) as caught:
        services.results_upsert(rows=[row(indicator, municipality, **numbers)], user=None)
    return {error.field: str(error.message) for error in caught.value.errors}


# Digits --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "numbers", "field", "message"),
    [
        ("number", {"value": Decimal("9999999999999")}, "value", "12 digits before the decimal point"),
        ("number", {"value": Decimal("99999999999999999999")}, "value", "digits"),
        ("number", {"value": Decimal("1.1234567")}, "value", "6 decimal places"),
        ("percentage", {"numerator": Decimal(1), "denominator": Decimal("1000000000000")}, "denominator", "12 digits"),
        ("percentage", {"numerator": Decimal("0.0000001"), "denominator": Decimal(1)}, "numerator", "6 decimal"),
    ],
)
def test_a_number_the_column_cannot_hold_is_a_field_error(setting, measure, numbers, field, message):
    programme, municipality = setting
    indicator = IndicatorFactory(programme=programme, measure=measure)
    found = refusals(indicator, municipality, **numbers)
    assert message in found[field]
    assert not Result.objects.exists()


def test_twelve_digits_and_six_places_are_stored_exactly(setting):
    programme, municipality = setting
    indicator = IndicatorFactory(programme=programme)
    value = Decimal("999999999999.123456")
    (result,) = services.results_upsert(rows=[row(indicator, municipality, value=value)], user=None).results
    result.refresh_from_db()
    assert result.value == value


def test_a_target_the_column_cannot_hold_is_a_field_error(setting):
    programme, _municipality = setting
    indicator = IndicatorFactory(programme=programme)
    with pytest.raises(ValidationError) as caught:
        services.target_set(indicator=indicator, period_start=Q1[0], period_end=Q1[1], value=Decimal("1e13"))
    assert "12 digits" in " ".join(caught.value.message_dict["value"])


# Plausible values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indicator_fields", "numbers", "field", "message"),
    [
        (
            {"measure": "score", "value_min": Decimal(1), "value_max": Decimal(5)},
            {"value": Decimal(7)},
            "value",
            "Enter a value between 1 and 5.",
        ),
        (
            {"measure": "percentage"},
            {"numerator": Decimal(300), "denominator": Decimal(100)},
            "numerator",
            "These give 300 %; the percentage must lie between 0 and 100 %.",
        ),
        ({"measure": "number"}, {"value": Decimal(-1)}, "value", "Enter a value of at least 0."),
        ({"measure": "number", "whole_numbers": True}, {"value": Decimal("2.5")}, "value", "Enter a whole number"),
        ({"measure": "number", "value_max": Decimal(10)}, {"value": Decimal(11)}, "value", "between 0 and 10."),
        (
            {"measure": "percentage", "whole_numbers": True},
            {"numerator": Decimal("1.5"), "denominator": Decimal(4)},
            "numerator",
            "Enter a whole number",
        ),
    ],
)
def test_a_value_outside_the_plausible_range_names_the_field_and_the_range(
    setting, indicator_fields, numbers, field, message
):
    programme, municipality = setting
    indicator = IndicatorFactory(programme=programme, **indicator_fields)
    assert message in refusals(indicator, municipality, **numbers)[field]


def test_scores_have_no_default_bounds_and_set_bounds_are_inclusive(setting):
    programme, municipality = setting
    score = IndicatorFactory(programme=programme, measure="score")
    scale = IndicatorFactory(programme=programme, measure="score", value_min=Decimal(1), value_max=Decimal(5))
    rows = [row(score, municipality, value=Decimal(-3)), row(scale, municipality, value=Decimal(5))]
    assert len(services.results_upsert(rows=rows, user=None).results) == 2


def test_a_single_update_is_held_to_the_same_bounds(setting):
    programme, municipality = setting
    indicator = IndicatorFactory(programme=programme, whole_numbers=True)
    result = services.result_create(
        indicator=indicator, municipality=municipality, period_start=Q1[0], period_end=Q1[1], value=Decimal(2)
    )
    with pytest.raises(ValidationError) as caught:
        services.result_update(result=result, user=None, value=Decimal("2.5"))
    assert "whole number" in caught.value.message_dict["value"][0]


def test_an_indicators_bounds_are_ordered(setting):
    programme, _municipality = setting
    with pytest.raises(ValidationError) as caught:
        services.indicator_create(
            programme=programme, code="S-1", name_en="Score", value_min=Decimal(5), value_max=Decimal(1)
        )
    assert "value_min" in caught.value.message_dict or "value_max" in caught.value.message_dict


# Not started, approved on creation -----------------------------------------------------------


def future_quarter() -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    start = datetime.date(today.year + 1, 1, 1)
    return start, datetime.date(today.year + 1, 3, 31)


def test_a_period_that_has_not_started_is_saved_as_draft_but_not_submitted(setting):
    programme, municipality = setting
    programme.end_date = datetime.date(timezone.localdate().year + 2, 12, 31)
    programme.save()
    indicator = IndicatorFactory(programme=programme)
    start, end = future_quarter()
    future = ResultRow(indicator.pk, municipality.pk, start, end, value=Decimal(3))
    with pytest.raises(BulkValidationError) as caught:
        services.results_upsert(rows=[future], user=None, status=Result.Status.SUBMITTED)
    assert [(e.field, "has started" in str(e.message)) for e in caught.value.errors] == [("period_start", True)]
    (draft,) = services.results_upsert(rows=[future], user=None).results
    with pytest.raises(ValidationError) as caught:
        services.result_submit(result=draft, user=None)
    assert start.isoformat() in caught.value.message_dict["period_start"][0]
    draft.refresh_from_db()
    assert draft.status == Result.Status.DRAFT


def test_only_superusers_create_approved_results(setting):
    programme, municipality = setting
    indicator = IndicatorFactory(programme=programme)
    rows = [row(indicator, municipality, value=Decimal(3))]
    with pytest.raises(services.ResultRefused) as caught:
        services.results_upsert(rows=rows, user=UserFactory(), status=Result.Status.APPROVED)
    assert caught.value.http_status == 403 and not Result.objects.exists()
    superuser = UserFactory(is_superuser=True)
    (result,) = services.results_upsert(rows=rows, user=superuser, status=Result.Status.APPROVED).results
    assert result.status == Result.Status.APPROVED


# Text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ({"comment": "bell\x07"}, "comment"),
        ({"evidence_url": "https://example.org/report\x07.pdf"}, "evidence_url"),
        ({"evidence_url": "https://example.org/\x1b[31m"}, "evidence_url"),
    ],
)
def test_comments_and_evidence_links_of_bulk_rows_refuse_control_characters(setting, text, field):
    programme, municipality = setting
    indicator = IndicatorFactory(programme=programme)
    found = refusals(indicator, municipality, value=Decimal(1), **text)
    assert "control characters" in found[field]


# Maker-checker -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["created_by", "updated_by", "submitted_by"])
def test_no_one_approves_or_returns_what_they_entered_changed_or_submitted(setting, role):
    programme, municipality = setting
    indicator = IndicatorFactory(programme=programme)
    maker, checker = UserFactory(), UserFactory()
    editors = {"created_by": maker, "updated_by": checker, "submitted_by": checker}
    editors[role] = maker
    result = services.result_create(
        indicator=indicator, municipality=municipality, period_start=Q1[0], period_end=Q1[1], value=Decimal(1),
        user=editors["created_by"],
    )  # fmt: skip
    result = services.result_update(result=result, user=editors["updated_by"], value=Decimal(2))
    result = services.result_submit(result=result, user=editors["submitted_by"])
    for transition, extra in ((services.result_approve, {}), (services.result_return, {"comment": "Check"})):
        with pytest.raises(services.ResultRefused) as caught:
            transition(result=result, user=maker, **extra)
        assert caught.value.http_status == 403 and "no one reviews their own work" in caught.value.messages[0]
    assert services.result_approve(result=result, user=UserFactory()).status == Result.Status.APPROVED


# Submitted results are locked ----------------------------------------------------------------


def test_a_submitted_result_is_locked_until_withdrawn(setting):
    programme, municipality = setting
    indicator = IndicatorFactory(programme=programme)
    editor = UserFactory()
    result = services.result_create(
        indicator=indicator, municipality=municipality, period_start=Q1[0], period_end=Q1[1], value=Decimal(1)
    )
    result = services.result_submit(result=result, user=editor)
    with pytest.raises(services.ResultLocked) as caught:
        services.result_update(result=result, user=editor, value=Decimal(2))
    assert caught.value.http_status == 409 and "withdraw it first" in caught.value.messages[0]
    with pytest.raises(BulkValidationError) as bulk:
        services.results_upsert(
            rows=[ResultRow(indicator.pk, municipality.pk, *Q1, value=Decimal(2), version=result.version)], user=editor
        )
    assert "withdraw it first" in str(bulk.value.errors[0].message)
    with pytest.raises(services.ResultLocked):
        services.result_delete(result=result, user=editor)
    result = services.result_withdraw(result=result, user=editor, expected_version=result.version)
    assert result.status == Result.Status.DRAFT
    assert services.result_update(result=result, user=editor, value=Decimal(2)).value == Decimal(2)
