"""`results_upsert`, the one write path of the grid, the spreadsheet import and the bulk API:
set-based, one lock per batch, and a row equal to what is stored writes nothing."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators import services
from indicators.models import Indicator, Result
from indicators.services import BulkValidationError, ResultRow, RowProblem, Written
from rollups.models import RollupCellRequest
from tests.factories import DonorFactory, IndicatorFactory, MunicipalityFactory, ProgrammeFactory, TwinningFactory

pytestmark = pytest.mark.django_db

CELLS = ({}, {"sex": "female"}, {"sex": "male"}, {"age": "youth"}, {"age": "adult"})


@pytest.fixture
def setting():
    programme = ProgrammeFactory(donors=[DonorFactory()])
    ghadames, tinley = MunicipalityFactory(), MunicipalityFactory(country="US")
    TwinningFactory(programme=programme, municipalities=[ghadames, tinley])
    return {"programme": programme, "municipalities": [ghadames, tinley]}


def monthly_indicator(setting) -> Indicator:
    indicator = IndicatorFactory(programme=setting["programme"], frequency=Indicator.Frequency.MONTHLY)
    indicator.disaggregations.set(services._resolve_categories(["sex", "age"]))
    return indicator


def months(count: int) -> list[tuple[datetime.date, datetime.date]]:
    found = []
    for month in range(1, count + 1):
        year, number = 2025 + (month - 1) // 12, (month - 1) % 12 + 1
        start = datetime.date(year, number, 1)
        following = datetime.date(year + (number == 12), number % 12 + 1, 1)
        found.append((start, following - datetime.timedelta(days=1)))
    return found


def rows_for(setting, indicator: Indicator, count: int, value: Decimal = Decimal(5)) -> list[ResultRow]:
    """`count` rows in distinct cells of the indicator: months × municipalities × disaggregations."""
    rows = []
    for start, end in months(12):
        for municipality in setting["municipalities"]:
            for disaggregation in CELLS:
                rows.append(ResultRow(indicator.pk, municipality.pk, start, end, disaggregation, value=value))
    return rows[:count]


def edited(rows: list[ResultRow], results: list[Result], **values) -> list[ResultRow]:
    """The rows as an editor sends them back, having seen these stored results."""
    return [
        ResultRow(
            row.indicator_id,
            row.municipality_id,
            row.period_start,
            row.period_end,
            row.disaggregation,
            version=result.version,
            **{"value": row.value, **values},
        )
        for row, result in zip(rows, results, strict=True)
    ]


def history_count() -> int:
    return Result.history.count()


def test_rows_equal_to_what_is_stored_write_nothing(setting):
    indicator = monthly_indicator(setting)
    rows = rows_for(setting, indicator, 10)
    created = services.results_upsert(rows=rows, user=None, status=Result.Status.APPROVED)
    assert created.count(Written.CREATED) == 10
    RollupCellRequest.objects.all().delete()
    before = {r.pk: (r.version, r.updated_at) for r in Result.objects.all()}
    histories = history_count()

    again = services.results_upsert(rows=edited(rows, created.results), user=None, status=Result.Status.APPROVED)

    assert [row.written for row in again.rows] == [Written.UNCHANGED] * 10
    assert {r.pk: (r.version, r.updated_at) for r in Result.objects.all()} == before
    assert history_count() == histories
    assert not RollupCellRequest.objects.exists()  # no recompute asked for
    # Sent without versions (as the bulk API does), equal rows are still no write.
    services.results_upsert(rows=rows, user=None, status=Result.Status.APPROVED)
    assert history_count() == histories


def test_changed_rows_are_updated_with_history_and_a_new_version(setting):
    indicator = monthly_indicator(setting)
    rows = rows_for(setting, indicator, 4)
    created = services.results_upsert(rows=rows, user=None)
    changed = edited(rows, created.results)
    changed[1].value = Decimal(9)
    changed[2].comment = "Counted twice; corrected"
    histories = history_count()

    outcome = services.results_upsert(rows=changed, user=None)

    assert [row.written for row in outcome.rows] == [
        Written.UNCHANGED,
        Written.UPDATED,
        Written.UPDATED,
        Written.UNCHANGED,
    ]
    stored = {r.pk: r for r in Result.objects.all()}
    assert [stored[r.pk].version for r in created.results] == [1, 2, 2, 1]
    assert stored[created.results[1].pk].value == Decimal(9)
    assert stored[created.results[2].pk].comment == "Counted twice; corrected"
    assert history_count() == histories + 2
    assert outcome.counts == {"created": 0, "updated": 2, "unchanged": 2, "deleted": 0, "submitted": 0}


def test_a_batch_takes_one_ordered_lock_on_exactly_its_stored_results(setting):
    indicator = monthly_indicator(setting)
    rows = rows_for(setting, indicator, 20)
    created = services.results_upsert(rows=rows[:10], user=None)
    outsider = services.results_upsert(rows=rows[10:11], user=None).results[0]  # a result the batch does not name
    changed = edited(rows[:10], created.results, value=Decimal(7))

    with CaptureQueriesContext(connection) as queries:
        services.results_upsert(rows=[*reversed(changed), *rows[11:]], user=None)

    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1
    assert locks[0].endswith('ORDER BY "indicators_result"."id" ASC FOR UPDATE')
    locked_ids = {int(pk) for pk in re.search(r'"id" IN \(([\d, ]+)\)', locks[0]).group(1).split(",")}
    assert locked_ids == {result.pk for result in created.results}
    assert outsider.pk not in locked_ids


def test_the_number_of_queries_does_not_grow_with_the_rows(setting):
    def count(size: int) -> int:
        indicator = monthly_indicator(setting)
        rows = rows_for(setting, indicator, size)
        third = size // 3
        stored = services.results_upsert(rows=rows[: 2 * third], user=None).results
        # A third unchanged, a third changed, the rest new; sent for approval.
        sent = [
            *edited(rows[:third], stored[:third]),
            *edited(rows[third : 2 * third], stored[third:], value=Decimal(8)),
            *rows[2 * third :],
        ]
        with CaptureQueriesContext(connection) as queries:
            outcome = services.results_upsert(rows=sent, user=None, status=Result.Status.SUBMITTED)
        assert outcome.counts["unchanged"] == 0  # the unchanged drafts are submitted
        assert outcome.counts["updated"] == 2 * third and outcome.counts["created"] == size - 2 * third
        return len(queries)

    small, large = count(10), count(100)
    assert small == large
    assert Result.objects.filter(status=Result.Status.SUBMITTED).count() == 110


def test_a_stale_row_that_changes_a_value_is_a_conflict_naming_the_field(setting):
    indicator = monthly_indicator(setting)
    rows = rows_for(setting, indicator, 2)
    created = services.results_upsert(rows=rows, user=None)
    first_edit = edited(rows, created.results, value=Decimal(6))
    services.results_upsert(rows=first_edit[:1], user=None)  # someone else saves row 0 first

    with pytest.raises(BulkValidationError) as raised:
        services.results_upsert(rows=edited(rows, created.results, value=Decimal(4)), user=None)

    (error,) = raised.value.errors
    assert (error.row, error.field, error.problem) == (0, "value", RowProblem.CONFLICT)
    assert "changed by someone else (now version 2)" in str(error.message)
    assert Result.objects.get(pk=created.results[1].pk).value == Decimal(5)  # all or nothing
    # The same stale row giving what is stored now is no conflict: nothing to write.
    outcome = services.results_upsert(rows=first_edit, user=None)
    assert [row.written for row in outcome.rows] == [Written.UNCHANGED, Written.UPDATED]


def test_a_row_entered_where_a_result_now_exists_is_refused_when_it_differs(setting):
    indicator = monthly_indicator(setting)
    (row,) = rows_for(setting, indicator, 1)
    services.results_upsert(rows=[row], user=None)
    other = ResultRow(row.indicator_id, row.municipality_id, row.period_start, row.period_end, value=Decimal(1))
    with pytest.raises(BulkValidationError) as raised:
        services.results_upsert(rows=[other], user=None)
    assert "already exists" in str(raised.value.errors[0].message)
    assert raised.value.errors[0].problem == RowProblem.CONFLICT


def test_approved_results_are_locked_unless_left_as_stored(setting):
    indicator = monthly_indicator(setting)
    rows = rows_for(setting, indicator, 1)
    (approved,) = services.results_upsert(rows=rows, user=None, status=Result.Status.APPROVED).results
    assert services.results_upsert(rows=edited(rows, [approved]), user=None).rows[0].written == Written.UNCHANGED
    with pytest.raises(BulkValidationError) as raised:
        services.results_upsert(rows=edited(rows, [approved], value=Decimal(1)), user=None)
    assert raised.value.errors[0].problem == RowProblem.LOCKED
    assert "approved and locked" in str(raised.value.errors[0].message)
    assert Result.objects.get(pk=approved.pk).value == Decimal(5)


def test_all_rows_of_one_call_end_in_one_status(setting):
    indicator = monthly_indicator(setting)
    rows = rows_for(setting, indicator, 3)
    rows[0].status = rows[1].status = Result.Status.SUBMITTED
    rows[2].status = None  # the call's: a draft
    with pytest.raises(BulkValidationError) as raised:
        services.results_upsert(rows=rows, user=None)
    assert [(e.row, e.field) for e in raised.value.errors] == [(2, "status")]
    assert "share one status" in str(raised.value.errors[0].message)
    assert not Result.objects.exists()
    rows[2].status = Result.Status.SUBMITTED
    outcome = services.results_upsert(rows=rows, user=None)
    assert {r.status for r in outcome.results} == {Result.Status.SUBMITTED}
    assert outcome.counts["submitted"] == 3


def test_approving_through_the_write_path_only_creates(setting):
    indicator = monthly_indicator(setting)
    rows = rows_for(setting, indicator, 1)
    (draft,) = services.results_upsert(rows=rows, user=None).results
    with pytest.raises(BulkValidationError) as raised:
        services.results_upsert(rows=edited(rows, [draft]), user=None, status=Result.Status.APPROVED)
    assert raised.value.errors[0].field == "status"
    assert Result.objects.get(pk=draft.pk).status == Result.Status.DRAFT


def test_emptied_rows_delete_their_result_when_asked(setting):
    indicator = monthly_indicator(setting)
    rows = rows_for(setting, indicator, 2)
    created = services.results_upsert(rows=rows, user=None).results
    emptied = edited(rows, created, value=None)
    emptied[1].version = None  # the editor never saw the second result: it is not theirs to remove
    with pytest.raises(BulkValidationError) as raised:
        services.results_upsert(rows=emptied, user=None, empty_rows_delete=True)
    assert [(e.row, e.problem) for e in raised.value.errors] == [(1, RowProblem.CONFLICT)]
    assert Result.objects.count() == 2
    outcome = services.results_upsert(rows=emptied[:1], user=None, empty_rows_delete=True)
    assert outcome.rows[0].written == Written.DELETED
    assert list(Result.objects.values_list("pk", flat=True)) == [created[1].pk]
    assert Result.history.filter(id=created[0].pk).latest("history_date").history_type == "-"
    # Without `empty_rows_delete` (spreadsheets, the API) a row without numbers is an error.
    with pytest.raises(BulkValidationError) as raised:
        services.results_upsert(rows=edited(rows[1:], created[1:], value=None), user=None)
    assert raised.value.errors[0].field == "value"


def test_numbers_the_column_cannot_hold_and_control_characters_are_field_errors(setting):
    indicator = monthly_indicator(setting)
    rows = rows_for(setting, indicator, 2)
    created = services.results_upsert(rows=rows, user=None).results
    changed = edited(rows, created)
    changed[0].value = Decimal("1.23456")
    changed[1].comment = "bell\x07"
    with pytest.raises(BulkValidationError) as raised:
        services.results_upsert(rows=changed, user=None)
    assert [(e.row, e.field) for e in raised.value.errors] == [(0, "value"), (1, "comment")]
    assert "4 decimal places" in str(raised.value.errors[0].message)
    with pytest.raises(ValidationError) as single:
        services.result_update(result=created[1], user=None, comment="bell\x07")
    assert "comment" in single.value.message_dict
