"""Result rules the database cannot hold, checked by the services with messages that name the field."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from indicators import services
from indicators.models import Indicator, Result
from indicators.services import BulkValidationError, ResultRow, StaleVersion
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
Q2 = (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30))


@pytest.fixture
def setting():
    programme = ProgrammeFactory(donors=[DonorFactory()])
    ghadames, tinley = MunicipalityFactory(), MunicipalityFactory(country="US")
    TwinningFactory(programme=programme, municipalities=[ghadames, tinley])
    indicator = IndicatorFactory(programme=programme)
    indicator.disaggregations.set(services._resolve_categories(["sex", "age"]))
    return {"programme": programme, "ghadames": ghadames, "tinley": tinley, "indicator": indicator}


def create(setting, **overrides):
    values = {
        "indicator": setting["indicator"],
        "municipality": setting["ghadames"],
        "period_start": Q1[0],
        "period_end": Q1[1],
        "value": Decimal(12),
        "user": UserFactory(),
    }
    values.update(overrides)
    return services.result_create(**values)


def messages(error: ValidationError, field: str) -> str:
    return " ".join(error.message_dict[field])


def test_a_draft_is_created_with_version_one(setting):
    result = create(setting)
    assert result.status == Result.Status.DRAFT
    assert result.version == 1
    assert result.disaggregation == {}


def test_a_second_total_for_the_same_cell_is_refused_with_a_message(setting):
    create(setting)
    with pytest.raises(ValidationError) as raised:
        create(setting, value=Decimal(3))
    assert "already exists" in " ".join(raised.value.messages)
    assert Result.objects.count() == 1


def test_municipality_must_take_part_in_the_programme(setting):
    with pytest.raises(ValidationError) as raised:
        create(setting, municipality=MunicipalityFactory())
    assert "does not take part" in messages(raised.value, "municipality")
    assert not Result.objects.exists()


def test_disaggregation_must_be_one_of_the_indicators(setting):
    with pytest.raises(ValidationError) as raised:
        create(setting, disaggregation={"disability": "with_disability"})
    assert "not disaggregated by “disability”" in messages(raised.value, "disaggregation")
    with pytest.raises(ValidationError) as raised:
        create(setting, disaggregation={"sex": "other"})
    assert "female, male" in messages(raised.value, "disaggregation")
    with pytest.raises(ValidationError):
        create(setting, disaggregation={"sex": "female", "age": "youth"})
    assert create(setting, disaggregation={"sex": "female"}).disaggregation == {"sex": "female"}


def test_percentages_need_numerator_and_denominator_and_compute_the_value(setting):
    indicator = setting["indicator"]
    indicator.measure = Indicator.Measure.PERCENTAGE
    indicator.save()
    with pytest.raises(ValidationError) as raised:
        create(setting, value=Decimal(40))
    assert "numerator" in raised.value.message_dict
    assert "denominator" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        create(setting, numerator=Decimal(3), denominator=Decimal(0))
    assert "greater than 0" in messages(raised.value, "denominator")
    result = create(setting, value=None, numerator=Decimal(1), denominator=Decimal(3))
    assert result.value == Decimal("33.3333")


def test_counts_take_a_value_not_parts(setting):
    with pytest.raises(ValidationError) as raised:
        create(setting, numerator=Decimal(1), denominator=Decimal(2))
    assert "Only percentage indicators" in messages(raised.value, "numerator")
    with pytest.raises(ValidationError) as raised:
        create(setting, value=Decimal(-1))
    assert "cannot be negative" in messages(raised.value, "value")


def test_workflow_submit_approve_lock_reopen(setting):
    editor, approver = UserFactory(), UserFactory()
    result = create(setting, user=editor)
    result = services.result_submit(result=result, user=editor)
    assert (result.status, result.submitted_by) == (Result.Status.SUBMITTED, editor)
    result = services.result_approve(result=result, user=approver)
    assert (result.status, result.reviewed_by) == (Result.Status.APPROVED, approver)
    with pytest.raises(services.ResultLocked):
        services.result_update(result=result, user=editor, value=Decimal(99))
    result = services.result_reopen(result=result, user=approver)
    assert result.status == Result.Status.DRAFT
    result = services.result_update(result=result, user=editor, value=Decimal(99))
    assert Result.objects.get(pk=result.pk).value == Decimal(99)
    assert result.history.count() == 5


def test_transitions_out_of_order_are_refused(setting):
    result = create(setting)
    with pytest.raises(ValidationError) as raised:
        services.result_approve(result=result, user=UserFactory())
    assert "cannot be approved" in messages(raised.value, "status")


def test_returning_needs_a_comment(setting):
    result = services.result_submit(result=create(setting), user=None)
    with pytest.raises(ValidationError) as raised:
        services.result_return(result=result, user=None, comment="  ")
    assert "comment" in raised.value.message_dict
    result = services.result_return(result=result, user=None, comment="Check the attendance sheet")
    assert result.status == Result.Status.RETURNED
    assert services.result_submit(result=result, user=None).status == Result.Status.SUBMITTED


def test_a_stale_version_is_refused(setting):
    result = create(setting)
    services.result_update(result=result, user=None, expected_version=1, value=Decimal(5))
    with pytest.raises(StaleVersion) as raised:
        services.result_update(result=result, user=None, expected_version=1, value=Decimal(6))
    assert raised.value.current_version == 2
    assert Result.objects.get(pk=result.pk).value == Decimal(5)


def test_bulk_create_is_all_or_nothing_with_errors_per_row(setting):
    indicator, ghadames, tinley = setting["indicator"], setting["ghadames"], setting["tinley"]
    rows = [
        ResultRow(indicator.pk, ghadames.pk, *Q1, value=Decimal(1)),
        ResultRow(indicator.pk, tinley.pk, *Q1, value=Decimal(2)),
        ResultRow(indicator.pk, tinley.pk, datetime.date(2025, 2, 1), datetime.date(2025, 4, 30), value=Decimal(3)),
        ResultRow(indicator.pk, ghadames.pk, *Q1, value=Decimal(4)),
        ResultRow(indicator.pk, ghadames.pk, *Q2, disaggregation={"sex": "nobody"}, value=Decimal(4)),
    ]
    with pytest.raises(BulkValidationError) as raised:
        services.results_create(rows=rows, user=None)
    errors = [error.as_dict() for error in raised.value.errors]
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "period_start"),
        (3, "non_field_errors"),
        (4, "disaggregation"),
    ]
    assert not Result.objects.exists()
    created = services.results_create(rows=rows[:2], user=None, status=Result.Status.APPROVED)
    assert {r.status for r in created} == {Result.Status.APPROVED}
    assert Result.objects.count() == 2


def test_bulk_create_validates_in_a_fixed_number_of_queries(setting, django_assert_max_num_queries):
    indicator, ghadames, tinley = setting["indicator"], setting["ghadames"], setting["tinley"]
    rows = [
        ResultRow(indicator.pk, municipality.pk, *Q1, disaggregation=disaggregation, value=Decimal(1))
        for municipality in (ghadames, tinley)
        for disaggregation in ({}, {"sex": "female"}, {"sex": "male"}, {"age": "youth"}, {"age": "adult"})
    ]
    with django_assert_max_num_queries(14):
        services.results_create(rows=rows, user=None)
    assert Result.objects.count() == 10


def test_more_than_ten_thousand_rows_are_refused():
    rows = [ResultRow(None, None, None, None)] * (services.MAX_BULK_RESULTS + 1)
    with pytest.raises(BulkValidationError) as raised:
        services.results_create(rows=rows, user=None)
    assert "At most 10000" in str(raised.value.errors[0].message).replace(",", "")


def test_what_a_result_is_about_and_its_status_are_not_changed_by_an_update(setting):
    result = create(setting)
    with pytest.raises(ValidationError) as raised:
        services.result_update(
            result=result,
            user=None,
            indicator=IndicatorFactory(),  # another programme's
            period_start=Q2[0],
            status=Result.Status.APPROVED,
            value=Decimal(1),
        )
    assert set(raised.value.message_dict) == {"indicator", "period_start", "status"}
    assert "cannot change on an existing result" in messages(raised.value, "indicator")
    stored = Result.objects.get(pk=result.pk)
    assert (stored.value, stored.version, stored.status) == (Decimal(12), 1, Result.Status.DRAFT)
    # The whole result sent back (as an API PUT does) with only a value changed is accepted.
    updated = services.result_update(
        result=result,
        user=None,
        indicator=setting["indicator"],
        municipality=setting["ghadames"],
        period_start=Q1[0],
        period_end=Q1[1],
        disaggregation={},
        status=Result.Status.DRAFT,
        value=Decimal(13),
    )
    assert (updated.value, updated.version) == (Decimal(13), 2)


def test_an_update_that_changes_nothing_writes_nothing(setting):
    result = create(setting)
    histories = result.history.count()
    unchanged = services.result_update(result=result, user=None, expected_version=1, value=Decimal("12.0"))
    assert unchanged.version == 1
    assert Result.objects.get(pk=result.pk).updated_at == result.updated_at
    assert result.history.count() == histories
