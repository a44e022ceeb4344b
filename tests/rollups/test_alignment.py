"""The stored alignment report (docs/design.md §5) over real rollups, restricted by programme."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators.models import Result
from rollups import alignment, engine
from rollups.models import AlignmentSnapshot, NationalTargetProgress
from rollups.queue import mark_alignment_stale
from tests.factories import (
    AlignmentFactory,
    DonorFactory,
    FunderGoalFactory,
    IndicatorFactory,
    MunicipalityFactory,
    NationalTargetFactory,
    ProgrammeFactory,
    TargetFactory,
    ThemeFactory,
    WorkstreamFactory,
)

pytestmark = pytest.mark.django_db


def approved(indicator, town, value):
    return Result.objects.create(
        indicator=indicator,
        municipality=town,
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 3, 31),
        value=Decimal(value),
        status="approved",
    )


@pytest.fixture
def world():
    """Two programmes with different donors working on the same theme in the same town."""
    usaid, eu = DonorFactory(), DonorFactory()
    taqarub = ProgrammeFactory(donors=[usaid])
    other = ProgrammeFactory(donors=[eu], start_date=datetime.date(2026, 1, 1))
    ghadames, tinley = MunicipalityFactory(), MunicipalityFactory()
    theme = ThemeFactory()
    WorkstreamFactory(programme=taqarub, theme=theme, municipalities=[ghadames])
    WorkstreamFactory(programme=other, theme=theme, municipalities=[ghadames, tinley])

    revenue = IndicatorFactory(programme=taqarub, lop_target=Decimal(100))  # 60 % of target
    trained = IndicatorFactory(programme=taqarub, lop_target=Decimal(10))  # 150 % → capped at 100
    unmeasured = IndicatorFactory(programme=taqarub)  # no target: not measurable
    foreign = IndicatorFactory(programme=other)
    TargetFactory(indicator=foreign, value=Decimal(50))
    approved(revenue, ghadames, 60)
    approved(trained, tinley, 15)
    approved(unmeasured, ghadames, 3)
    approved(foreign, tinley, 25)  # 50 %

    plan, spare = NationalTargetFactory(), NationalTargetFactory()
    root = FunderGoalFactory(donor=usaid)
    child = FunderGoalFactory(donor=usaid, parent=root)
    lonely = FunderGoalFactory(donor=eu)
    AlignmentFactory(indicator=revenue, national_target=plan, weight=Decimal(1))
    AlignmentFactory(indicator=trained, national_target=plan, weight=Decimal(3))
    AlignmentFactory(indicator=unmeasured, national_target=plan)
    AlignmentFactory(indicator=foreign, national_target=plan)
    AlignmentFactory(indicator=trained, national_target=None, funder_goal=child)
    AlignmentFactory(indicator=revenue, national_target=None, funder_goal=root)
    engine.recompute_all()
    return locals()


def by_id(items):
    return {item.id: item for item in items}


def test_global_report_follows_section_5(world):
    w = world
    report = alignment.compute_alignment().report
    plan = by_id(report.national_targets)[w["plan"].id]
    # (1·60 + 3·100 + 1·50) / 5; the unmeasured indicator is listed, not counted.
    assert plan.progress == Decimal(82)
    assert plan.not_measurable == [w["unmeasured"].id]
    assert plan.programmes == sorted([w["taqarub"].id, w["other"].id])
    assert plan.donors == sorted([w["usaid"].id, w["eu"].id])
    assert plan.municipalities == sorted([w["ghadames"].id, w["tinley"].id])
    goals = by_id(report.funder_goals)
    assert goals[w["root"].id].indicators == sorted([w["revenue"].id, w["trained"].id])  # with its child's
    assert goals[w["root"].id].progress == Decimal(80)
    matrix = {(cell.national_target, cell.funder_goal): cell for cell in report.matrix}
    assert matrix[(w["plan"].id, w["root"].id)].progress == Decimal(80)
    assert matrix[(w["plan"].id, w["child"].id)].progress == Decimal(100)
    assert report.gap_national_targets == [w["spare"].id]
    assert report.gap_funder_goals == [w["lonely"].id]
    [overlap] = report.overlaps
    assert (overlap.municipality_id, overlap.theme_id) == (w["ghadames"].id, w["theme"].id)
    assert overlap.programme_ids == tuple(sorted([w["taqarub"].id, w["other"].id]))


def test_a_donor_sees_progress_over_its_programmes_only(world):
    w = world
    report = alignment.compute_alignment([w["taqarub"].id]).report
    plan = by_id(report.national_targets)[w["plan"].id]
    assert plan.progress == Decimal(90)  # (1·60 + 3·100) / 4: the other programme's indicator is out
    assert plan.programmes == [w["taqarub"].id]
    assert report.overlaps == []  # an overlap needs two programmes the viewer can see


def test_report_costs_a_fixed_number_of_queries(world):
    with CaptureQueriesContext(connection) as few:
        alignment.compute_alignment()
    for _ in range(5):  # more indicators, goals and alignments
        indicator = IndicatorFactory(programme=world["taqarub"], lop_target=Decimal(5))
        AlignmentFactory(indicator=indicator)
        AlignmentFactory(indicator=indicator, national_target=None, funder_goal=FunderGoalFactory())
    engine.recompute_all()
    with CaptureQueriesContext(connection) as more:
        alignment.compute_alignment()
    assert len(few.captured_queries) == len(more.captured_queries)


def test_stored_snapshot_matches_the_computed_report_and_knows_when_it_is_stale(world):
    written, _ = alignment.store_global_snapshot()
    assert written
    stored = alignment.stored_global_report()
    computed = alignment.report_as_dict(alignment.compute_alignment())
    for key in ("national_targets", "funder_goals", "matrix", "gaps", "overlaps"):
        assert stored[key] == computed[key], key
    assert stored["pending"] is False
    assert alignment.store_global_snapshot()[0] is False  # nothing requested since
    mark_alignment_stale()
    assert alignment.stored_global_report()["pending"] is True
    assert alignment.store_global_snapshot()[0] is True
    assert AlignmentSnapshot.objects.get().pending is False


def test_a_forced_snapshot_is_written_even_when_fresh(world):
    """The reconcile and the commands rewrite the snapshot whatever its state, with what changed."""
    assert alignment.store_global_snapshot()[0] is True
    first = AlignmentSnapshot.objects.get().computed_at
    spare = NationalTargetProgress.objects.get(national_target=world["spare"])
    spare.delete()  # the stored copy lost a row; nothing marked it stale
    assert alignment.store_global_snapshot()[0] is False
    assert alignment.force_global_snapshot() >= 0
    assert AlignmentSnapshot.objects.get().computed_at > first
    assert NationalTargetProgress.objects.get(national_target=world["spare"]).is_gap
    assert AlignmentSnapshot.objects.get().pending is False


def test_progress_to_date_weighs_the_same_indicators_on_their_targets_to_date(world):
    """The revenue and training indicators have only a LoP target, which never counts to date; the
    other programme's indicator has a target for the first quarter of 2025: 25 of 50."""
    w = world
    report = alignment.compute_alignment().report
    plan = by_id(report.national_targets)[w["plan"].id]
    assert (plan.progress, plan.progress_to_date) == (Decimal(82), Decimal(50))
    assert by_id(report.funder_goals)[w["root"].id].progress_to_date is None
    assert (
        alignment.compute_alignment(as_of=datetime.date(2025, 3, 30)).report.national_targets[0].progress_to_date
        is None
    )
    on_the_day = alignment.compute_alignment(as_of=datetime.date(2025, 3, 31)).report
    assert by_id(on_the_day.national_targets)[w["plan"].id].progress_to_date == Decimal(50)
    alignment.store_global_snapshot()
    stored = {row["id"]: row for row in alignment.stored_global_report()["national_targets"]}
    assert (stored[w["plan"].id]["progress"], stored[w["plan"].id]["progress_to_date"]) == (Decimal(82), Decimal(50))


def test_a_report_as_of_a_date_costs_one_query_more_whatever_the_size(world):
    def counted(**options):
        with CaptureQueriesContext(connection) as captured:
            alignment.compute_alignment(**options)
        return len(captured.captured_queries)

    today = counted()
    few = counted(as_of=datetime.date(2025, 6, 30))
    for _ in range(5):
        indicator = IndicatorFactory(programme=world["taqarub"])
        TargetFactory(indicator=indicator)
        AlignmentFactory(indicator=indicator)
    engine.recompute_all()
    assert few == today + 1 == counted(as_of=datetime.date(2025, 6, 30))
