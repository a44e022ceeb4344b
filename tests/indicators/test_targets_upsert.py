"""`targets_upsert`, the one write path of the target grid and its offline sheet: every cell
checked, all or nothing, set-based, one recompute per batch, and cells as stored write nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators import services
from indicators.models import Indicator, Target
from indicators.services import NOT_LOADED, BulkValidationError, RowProblem, TargetCell
from rollups.models import IndicatorRollupState, Rollup
from tests.factories import (
    IndicatorFactory,
    MunicipalityFactory,
    ProgrammeFactory,
    TargetFactory,
    TwinningFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Q1 = (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))
Q2 = (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30))


@pytest.fixture
def setting():
    programme = ProgrammeFactory()  # 2025–2027, fiscal year from January
    ghadames, nalut = MunicipalityFactory(), MunicipalityFactory()
    TwinningFactory(programme=programme, municipalities=[ghadames, nalut])
    return {"programme": programme, "municipalities": [ghadames, nalut], "user": UserFactory()}


def quarterly(setting, **fields) -> Indicator:
    return IndicatorFactory(programme=setting["programme"], **fields)


def cell(municipality, period, value, loaded=NOT_LOADED) -> TargetCell:
    """A cell as typed; `loaded` (text or None) is what the page showed in it when it was opened."""
    return TargetCell(
        municipality.pk if municipality is not None else None,
        period[0],
        period[1],
        None if value is None else Decimal(value),
        loaded if loaded is NOT_LOADED or loaded is None else Decimal(loaded),
    )


def lop(value, loaded=NOT_LOADED) -> TargetCell:
    return TargetCell(
        None,
        None,
        None,
        None if value is None else Decimal(value),
        loaded if loaded is NOT_LOADED or loaded is None else Decimal(loaded),
    )


def stored(indicator) -> dict:
    return {(t.municipality_id, t.period_start): t.value for t in Target.objects.filter(indicator=indicator)}


def requested(indicator) -> int:
    state = IndicatorRollupState.objects.filter(indicator=indicator).first()
    return state.requested_version if state else 0


def test_a_grid_creates_changes_deletes_and_leaves_cells_as_stored(setting):
    indicator = quarterly(setting)
    ghadames, nalut = setting["municipalities"]
    TargetFactory(indicator=indicator, municipality=ghadames, period_start=Q1[0], period_end=Q1[1], value=5)
    TargetFactory(indicator=indicator, municipality=nalut, period_start=Q1[0], period_end=Q1[1], value=6)
    TargetFactory(indicator=indicator, municipality=None, period_start=Q1[0], period_end=Q1[1], value=11)
    histories = Target.history.count()

    counts = services.targets_upsert(
        indicator=indicator,
        cells=[
            cell(None, Q1, "11"),  # as stored
            cell(ghadames, Q1, "7"),  # changed
            cell(nalut, Q1, None),  # emptied: deleted
            cell(ghadames, Q2, "9"),  # new
            cell(nalut, Q2, None),  # empty and nothing stored
        ],
        user=setting["user"],
    )

    assert counts == {"created": 1, "updated": 1, "deleted": 1, "unchanged": 2, "kept": 0}
    assert stored(indicator) == {
        (None, Q1[0]): Decimal(11),
        (ghadames.pk, Q1[0]): Decimal(7),
        (ghadames.pk, Q2[0]): Decimal(9),
    }
    written = Target.history.filter(history_id__gt=0).order_by("-history_id")[:3]
    assert Target.history.count() == histories + 3
    assert {record.history_type for record in written} == {"+", "~", "-"}
    assert {record.history_user_id for record in written} == {setting["user"].pk}
    deleted = Target.history.get(history_type="-")
    assert (deleted.municipality_id, deleted.value) == (nalut.pk, Decimal(6))


def test_cells_as_stored_write_nothing_and_ask_for_no_recompute(setting):
    indicator = quarterly(setting, lop_target=Decimal(40))
    ghadames, _nalut = setting["municipalities"]
    cells = [cell(ghadames, Q1, "5"), cell(None, Q1, "20"), TargetCell(None, None, None, Decimal(40))]
    services.targets_upsert(indicator=indicator, cells=cells[:2], user=None)
    histories, version = Target.history.count(), requested(indicator)

    counts = services.targets_upsert(indicator=indicator, cells=cells, user=None)

    assert counts == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 3, "kept": 0}
    assert Target.history.count() == histories
    assert indicator.history.count() == 1  # only its creation
    assert requested(indicator) == version


def test_one_recompute_is_asked_for_per_batch(setting):
    indicator = quarterly(setting)
    ghadames, nalut = setting["municipalities"]
    before = requested(indicator)
    services.targets_upsert(
        indicator=indicator,
        cells=[cell(ghadames, Q1, "1"), cell(nalut, Q1, "2"), cell(None, Q2, "3"), TargetCell(None, None, None, 9)],
        user=None,
    )
    assert requested(indicator) == before + 1


def test_bad_cells_are_answered_one_by_one_and_nothing_is_written(setting):
    indicator = quarterly(setting, value_min=Decimal(0), whole_numbers=True)
    ghadames, _nalut = setting["municipalities"]
    outsider = MunicipalityFactory()
    TargetFactory(indicator=indicator, municipality=ghadames, period_start=Q1[0], period_end=Q1[1], value=5)
    cells = [
        cell(ghadames, Q1, "8"),  # fine, but the batch fails
        cell(ghadames, Q2, "-3"),
        cell(None, Q2, "2.5"),
        cell(outsider, Q2, "4"),
        cell(None, (datetime.date(2025, 2, 1), datetime.date(2025, 4, 30)), "4"),
        cell(None, (datetime.date(2030, 1, 1), datetime.date(2030, 3, 31)), "4"),
        cell(ghadames, Q1, "9"),
    ]
    with pytest.raises(BulkValidationError) as raised:
        services.targets_upsert(indicator=indicator, cells=cells, user=None)

    by_row = {error.row: (error.field, str(error.message)) for error in raised.value.errors}
    assert sorted(by_row) == [1, 2, 3, 4, 5, 6]
    assert by_row[1] == ("value", "Enter a value of at least 0.")
    assert by_row[2] == ("value", "Enter a whole number: this indicator counts whole units.")
    assert by_row[3] == ("municipality", "This municipality does not take part in the indicator's programme.")
    assert by_row[4][0] == "period_start" and "is not a quarterly period" in by_row[4][1]
    assert by_row[5][0] == "period_start" and "the programme runs from 2025-01-01 to 2027-12-31" in by_row[5][1]
    assert by_row[6] == ("non_field_errors", "Cell 0 already gives this target.")
    assert stored(indicator) == {(ghadames.pk, Q1[0]): Decimal(5)}


def test_the_upper_bound_holds_where_a_target_is_on_the_scale_of_one_result(setting):
    ghadames, _nalut = setting["municipalities"]
    people = quarterly(setting, value_max=Decimal(50))
    # A municipality's quarter is one result's scale; the whole programme and the LoP add up several.
    with pytest.raises(BulkValidationError) as raised:
        services.targets_upsert(indicator=people, cells=[cell(ghadames, Q1, "60")], user=None)
    assert str(raised.value.errors[0].message) == "Enter a value between 0 and 50."
    services.targets_upsert(
        indicator=people, cells=[cell(None, Q1, "80"), TargetCell(None, None, None, Decimal(300))], user=None
    )
    assert stored(people) == {(None, Q1[0]): Decimal(80)}
    share = quarterly(setting, measure=Indicator.Measure.PERCENTAGE, time_aggregation=Indicator.TimeAggregation.LATEST)
    with pytest.raises(BulkValidationError) as raised:
        services.targets_upsert(indicator=share, cells=[cell(None, Q1, "120")], user=None)
    assert str(raised.value.errors[0].message) == "Enter a value between 0 and 100."
    services.targets_upsert(indicator=share, cells=[cell(None, Q1, "62.5")], user=None)  # a share may have a fraction


def test_the_lop_target_is_set_changed_and_cleared_with_history(setting):
    indicator = quarterly(setting)
    user = setting["user"]
    lop = TargetCell(None, None, None, Decimal(120))
    assert services.targets_upsert(indicator=indicator, cells=[lop], user=user)["created"] == 1
    indicator.refresh_from_db()
    assert indicator.lop_target == Decimal(120)
    assert indicator.history.first().history_user == user
    assert services.targets_upsert(indicator=indicator, cells=[TargetCell(None, None, None, None)], user=user) == {
        "created": 0,
        "updated": 0,
        "deleted": 1,
        "unchanged": 0,
        "kept": 0,
    }
    indicator.refresh_from_db()
    assert indicator.lop_target is None
    ghadames, _nalut = setting["municipalities"]
    with pytest.raises(BulkValidationError) as raised:
        services.targets_upsert(indicator=indicator, cells=[TargetCell(ghadames.pk, None, None, Decimal(3))], user=user)
    assert raised.value.errors[0].field == "municipality"


@pytest.mark.parametrize("checked", [False, True], ids=["unchecked", "checked"])
def test_one_ordered_lock_and_a_query_count_that_does_not_grow_with_the_cells(setting, checked):
    """Checked or not (every cell carrying the value it was loaded with, as the page sends them),
    a LoP cell locks the indicator's row (the LoP target lives there) before the targets, the
    order `indicator_delete` takes them in, and nothing more is locked."""
    municipalities = setting["municipalities"]

    def count(size: int) -> int:
        indicator = quarterly(setting, frequency=Indicator.Frequency.MONTHLY)
        months = [(datetime.date(2025 + m // 12, m % 12 + 1, 1), None) for m in range(36)]  # the programme's 36 months
        grid = []
        for start, _end in months:
            following = datetime.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
            for municipality in [None, *municipalities]:
                grid.append((municipality, (start, following - datetime.timedelta(days=1))))
        grid = grid[:size]
        third = size // 3
        services.targets_upsert(
            indicator=indicator, cells=[cell(m, p, "5") for m, p in grid[: 2 * third]], user=setting["user"]
        )
        # A third deleted, a third changed, the rest new.
        was, empty = ("5", None) if checked else (NOT_LOADED, NOT_LOADED)
        sent = [
            *[cell(m, p, None, was) for m, p in grid[:third]],
            *[cell(m, p, "6", was) for m, p in grid[third : 2 * third]],
            *[cell(m, p, "7", empty) for m, p in grid[2 * third :]],
            lop(size, empty),
        ]
        with CaptureQueriesContext(connection) as queries:
            counts = services.targets_upsert(indicator=indicator, cells=sent, user=setting["user"])
        assert counts == {
            "created": size - 2 * third + 1,
            "updated": third,
            "deleted": third,
            "unchanged": 0,
            "kept": 0,
        }
        locks = [q["sql"] for q in queries.captured_queries if "FOR " in q["sql"] and "UPDATE" in q["sql"]]
        assert len(locks) == 2 and 'ORDER BY "indicators_target"."id" ASC FOR UPDATE' in locks[-1]
        assert 'FROM "indicators_indicator"' in locks[0] and locks[0].endswith("FOR NO KEY UPDATE")
        assert len(stored(indicator)) == size - third
        return len(queries)

    assert count(9) == count(99)


def test_a_lop_target_saved_from_an_old_copy_of_the_indicator_keeps_what_others_changed(setting):
    indicator = quarterly(setting)
    stale = Indicator.objects.get(pk=indicator.pk)  # the page's copy, read before the rename
    services.indicator_update(indicator=indicator, name_en="Renamed meanwhile")
    services.targets_upsert(indicator=stale, cells=[lop("120")], user=setting["user"])
    indicator.refresh_from_db()
    assert (indicator.name_en, indicator.lop_target) == ("Renamed meanwhile", Decimal(120))
    # Its history says so too: the LoP's row is the indicator as stored, not the old copy.
    assert indicator.history.first().name_en == "Renamed meanwhile"


def test_target_set_shares_the_rules_of_the_grid(setting):
    indicator = quarterly(setting, whole_numbers=True)
    with pytest.raises(ValidationError) as raised:
        services.target_set(indicator=indicator, period_start=Q1[0], period_end=Q1[1], value=Decimal("2.5"))
    assert raised.value.message_dict["value"] == ["Enter a whole number: this indicator counts whole units."]
    with pytest.raises(ValidationError) as raised:
        services.target_set(indicator=indicator, period_start=Q1[0], period_end=Q1[1], value=None)
    assert raised.value.message_dict["value"] == ["Enter a value."]
    target = services.target_set(indicator=indicator, period_start=Q1[0], period_end=Q1[1], value=Decimal(4))
    moved = services.target_update(target=target, period_start=Q2[0], period_end=Q2[1])
    assert stored(indicator) == {(None, Q2[0]): moved.value}


def test_a_target_write_reaches_the_rollups(setting, django_capture_on_commit_callbacks):
    from twinning.celery import app

    indicator = quarterly(setting)
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.targets_upsert(
                indicator=indicator, cells=[cell(None, Q1, "30"), TargetCell(None, None, None, Decimal(90))], user=None
            )
    finally:
        app.conf.task_always_eager = previous
    programme_rows = Rollup.objects.filter(indicator=indicator, scope="programme", disaggregation_category="")
    assert programme_rows.get(period_start=Q1[0]).target == Decimal(30)
    assert programme_rows.get(period_start__isnull=True).target == Decimal(90)


# Two editors of one grid: compare-and-set per cell --------------------------------------------


def test_a_cell_changed_here_and_by_someone_else_meanwhile_is_refused_and_nothing_is_written(setting):
    indicator = quarterly(setting)
    ghadames, nalut = setting["municipalities"]
    TargetFactory(indicator=indicator, municipality=ghadames, period_start=Q1[0], period_end=Q1[1], value=5)
    TargetFactory(indicator=indicator, municipality=nalut, period_start=Q1[0], period_end=Q1[1], value=6)
    # A opens the grid (Ghadames 5, Nalut 6, the rest empty); B then changes Ghadames, deletes
    # Nalut and fills the programme's Q1.
    services.targets_upsert(
        indicator=indicator,
        cells=[cell(ghadames, Q1, "120"), cell(nalut, Q1, None), cell(None, Q1, "40")],
        user=None,
    )
    histories = Target.history.count()

    with pytest.raises(BulkValidationError) as raised:
        services.targets_upsert(
            indicator=indicator,
            cells=[
                cell(ghadames, Q2, "9", None),  # A's own new cell: fine, but the batch fails
                cell(ghadames, Q1, "7", "5"),
                cell(nalut, Q1, "8", "6"),
                cell(None, Q1, "30", None),
            ],
            user=None,
        )

    errors = raised.value.errors
    assert [(error.row, error.field, error.problem) for error in errors] == [
        (1, "value", RowProblem.CONFLICT),
        (2, "value", RowProblem.CONFLICT),
        (3, "value", RowProblem.CONFLICT),
    ]
    assert [str(error.message) for error in errors] == [
        "Someone else changed this target to 120 after you opened the page; reload to see it.",
        "Someone else deleted this target after you opened the page; reload to see it.",
        "Someone else changed this target to 40 after you opened the page; reload to see it.",
    ]
    assert [error.current for error in errors] == [Decimal(120), None, Decimal(40)]
    assert stored(indicator) == {(ghadames.pk, Q1[0]): Decimal(120), (None, Q1[0]): Decimal(40)}
    assert Target.history.count() == histories


def test_a_cell_left_as_loaded_keeps_what_someone_else_saved_meanwhile(setting):
    indicator = quarterly(setting, lop_target=Decimal(300))
    stale = Indicator.objects.get(pk=indicator.pk)  # A's page, opened before B's save
    ghadames, nalut = setting["municipalities"]
    TargetFactory(indicator=indicator, municipality=ghadames, period_start=Q1[0], period_end=Q1[1], value=5)
    TargetFactory(indicator=indicator, municipality=nalut, period_start=Q1[0], period_end=Q1[1], value=6)
    services.targets_upsert(
        indicator=indicator,
        cells=[cell(ghadames, Q1, "120"), cell(nalut, Q1, None), cell(None, Q1, "40"), lop("500")],
        user=None,
    )

    # A's page sends every cell as it showed them, and A's one change (Ghadames' Q2).
    counts = services.targets_upsert(
        indicator=stale,
        cells=[
            cell(ghadames, Q1, "5", "5"),
            cell(nalut, Q1, "6", "6"),
            cell(None, Q1, None, None),
            cell(ghadames, Q2, "9", None),
            lop("300", "300"),
        ],
        user=None,
    )

    assert counts == {"created": 1, "updated": 0, "deleted": 0, "unchanged": 0, "kept": 4}
    assert stored(indicator) == {
        (ghadames.pk, Q1[0]): Decimal(120),
        (None, Q1[0]): Decimal(40),
        (ghadames.pk, Q2[0]): Decimal(9),
    }
    indicator.refresh_from_db()
    assert indicator.lop_target == Decimal(500)


def test_the_lop_target_is_checked_against_the_stored_one_not_the_callers_copy(setting):
    indicator = quarterly(setting, lop_target=Decimal(300))
    stale = Indicator.objects.get(pk=indicator.pk)
    services.targets_upsert(indicator=indicator, cells=[lop("500")], user=None)

    with pytest.raises(BulkValidationError) as raised:
        services.targets_upsert(indicator=stale, cells=[lop("350", "300")], user=None)

    assert str(raised.value.errors[0].message) == (
        "Someone else changed this target to 500 after you opened the page; reload to see it."
    )
    indicator.refresh_from_db()
    assert indicator.lop_target == Decimal(500)
    # The same change made on both sides is no conflict.
    assert services.targets_upsert(indicator=stale, cells=[lop("500", "300")], user=None)["unchanged"] == 1


def test_a_cell_changed_to_what_is_stored_now_is_no_conflict(setting):
    indicator = quarterly(setting)
    ghadames, _nalut = setting["municipalities"]
    TargetFactory(indicator=indicator, municipality=ghadames, period_start=Q1[0], period_end=Q1[1], value=8)
    counts = services.targets_upsert(indicator=indicator, cells=[cell(ghadames, Q1, "8.00", "5")], user=None)
    assert counts == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 1, "kept": 0}


def test_without_a_loaded_value_the_cell_is_written_as_sent(setting):
    # The API, the seed and older callers send no loaded value: the last save wins, as before.
    indicator = quarterly(setting, lop_target=Decimal(300))
    ghadames, nalut = setting["municipalities"]
    TargetFactory(indicator=indicator, municipality=ghadames, period_start=Q1[0], period_end=Q1[1], value=120)
    TargetFactory(indicator=indicator, municipality=nalut, period_start=Q1[0], period_end=Q1[1], value=6)
    counts = services.targets_upsert(
        indicator=indicator, cells=[cell(ghadames, Q1, "5"), cell(nalut, Q1, None), lop("250")], user=None
    )
    assert counts == {"created": 0, "updated": 2, "deleted": 1, "unchanged": 0, "kept": 0}
    assert stored(indicator) == {(ghadames.pk, Q1[0]): Decimal(5)}


def test_a_bad_cell_is_answered_for_its_value_not_also_as_a_conflict(setting):
    indicator = quarterly(setting)
    ghadames, _nalut = setting["municipalities"]
    TargetFactory(indicator=indicator, municipality=ghadames, period_start=Q1[0], period_end=Q1[1], value=8)
    with pytest.raises(BulkValidationError) as raised:
        services.targets_upsert(
            indicator=indicator, cells=[cell(ghadames, Q1, "-1", "5"), cell(None, Q1, "3", "2")], user=None
        )
    assert [(error.row, str(error.message)) for error in raised.value.errors] == [
        (0, "Enter a value of at least 0."),
        (1, "Someone else deleted this target after you opened the page; reload to see it."),
    ]
