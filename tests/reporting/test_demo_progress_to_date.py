"""The demo tells the truth about progress to date: statuses checked against numbers worked out by
hand from seeds/06_indicators.yaml (targets) and seeds/07_results.yaml (approved results), as of
30 June 2026 (docs/design.md §4: the periods ended by then count; "ended" includes that last day).
The demo moves all its dates with today (seeds/00_calendar.yaml), so "30 June 2026" is that day
moved the same way; the dates below are the files'.

Taqarub's fiscal year starts in October: by 30 June 2026 seven quarters have ended (October 2024 to
June 2026) and three halves (to March 2026); its approved results stop in March 2026 (April–June
2026 is only submitted or drafted, so it does not count). MSRP's calendar quarters: six have ended
(January 2025 to June 2026), all with approved results.

The same seeded demo shows a reporting cycle (docs/reporting-cycle.md): results sent on time,
late, and missing (seeds/07_results.yaml `submitted_after_days`).

The demo is seeded once for the module inside a transaction rolled back at the end.
"""

import datetime
import io
from decimal import Decimal

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from indicators.models import Result
from projects.access import access_for
from projects.models import Programme
from reporting import reports
from reporting.completeness import completeness
from rollups.rollup_math import aligned_progress_status
from twinning.management.commands.seed_demo import add_months, demo_calendar

AS_OF_IN_THE_FILES = datetime.date(2026, 6, 30)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", demo=True, stdout=io.StringIO(), stderr=io.StringIO())  # DEBUG is off in tests
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return access_for(get_user_model().objects.get(username="admin"))


@pytest.fixture
def as_of(seeded, db):
    return demo_calendar(settings.BASE_DIR / "seeds").moved(AS_OF_IN_THE_FILES)


def iptt_rows(access, code, as_of):
    programme = Programme.objects.get(code=code)
    report = reports.iptt(programme=programme, access=access, options=reports.IPTTOptions(as_of=as_of))
    assert report["as_of"] == as_of
    return {row["code"]: row for row in report["rows"]}


def judged(row):
    return row["target_to_date"], row["percent_to_date"], row["status_to_date"]


# Indicator by indicator, at programme scope, the total (the arithmetic of each in its comment).
EXPECTED_INDICATORS = {
    # TAQ-1, number × sum, programme-wide targets 40, 50, 50, 50, 60, 60, 60 for the seven ended
    # quarters = 370. Approved: Ghadames 18+24+21+26+30+28 = 147, Nalut 12+15+17+14+19+22 = 99,
    # Zuwara 6+9+11+10+12+14 = 62, Tinley Park's nil returns 0, in all 308. 100 × 308 / 370 =
    # 83.24 %: below. (Over the life of the programme, against its lop_target of 600, 51.33 %.)
    ("TAQARUB", "TAQ-1"): (Decimal(370), Decimal("83.24"), "below"),
    # TAQ-2, number × cumulative, Ghadames' running targets; the last ended (April–June 2026) is
    # 19. Running total of the approved documents: Ghadames' 1+3+3+2+4+3 = 16, and the nil returns of
    # Nalut, Zuwara and Tinley Park (0 each quarter), 16. 100 × 16 / 19 = 84.21 %: below.
    ("TAQARUB", "TAQ-2"): (Decimal(19), Decimal("84.21"), "below"),
    # TAQ-4, percentage (latest), reported by Ghadames and Nalut only, no programme-wide target: the
    # mean of the municipality targets of the last ended quarter, (65 + 58) / 2 = 61.5. Latest
    # approved quarter (January–March 2026): (215 + 140) / (355 + 270) = 56.8 %.
    # 100 × 56.8 / 61.5 = 92.36 %: on track.
    ("TAQARUB", "TAQ-4"): (Decimal("61.5"), Decimal("92.36"), "on_track"),
    # TAQ-5, percentage, half-yearly programme-wide targets; the last ended half (October 2025 –
    # March 2026) has 55. Its results: (221 + 176) / (410 + 390) = 49.625 %. 100 × 49.625 / 55 =
    # 90.23 %: on track.
    ("TAQARUB", "TAQ-5"): (Decimal(55), Decimal("90.23"), "on_track"),
    # TAQ-7, number × sum, targets 20+30+30+30+40+40+40 = 230; approved 76 + 51 + 46 (+ Tinley Park's
    # nil returns, 0) = 173.
    # 100 × 173 / 230 = 75.22 %: below.
    ("TAQARUB", "TAQ-7"): (Decimal(230), Decimal("75.22"), "below"),
    # TAQ-8, percentage, programme-wide target of April–June 2026: 28. Latest approved quarter:
    # (9 + 6) / (38 + 32) = 21.428571 % (stored to 6 places). 100 × 21.428571 / 28 = 76.53 %: below.
    ("TAQARUB", "TAQ-8"): (Decimal(28), Decimal("76.53"), "below"),
    # MSR-1, percentage, mean of the municipality targets of April–June 2026: (65 + 60) / 2 = 62.5.
    # Same quarter: (140 + 560) / (225 + 1000) = 57.142857 %. 100 × 57.142857 / 62.5 = 91.43 %.
    ("MSRP", "MSR-1"): (Decimal("62.5"), Decimal("91.43"), "on_track"),
    # MSR-2, number × sum, targets 20+30+30+20+25+25 = 150; approved Ghadames 36, Nalut 32,
    # Sabha 69, Zuwara's and Misrata's nil returns 0 = 137. 100 × 137 / 150 = 91.33 %: on track.
    ("MSRP", "MSR-2"): (Decimal(150), Decimal("91.33"), "on_track"),
    # MSR-5, number × sum, municipality targets summed: Zuwara 20+25+25+25+30+30 = 155 and
    # Misrata 30+40+40+40+45+45 = 240, 395; approved Zuwara 149 + Misrata 233 (+ the nil returns of
    # Ghadames, Nalut and Sabha, 0) = 382.
    # 100 × 382 / 395 = 96.71 %: on track.
    ("MSRP", "MSR-5"): (Decimal(395), Decimal("96.71"), "on_track"),
}


def test_indicators_to_date_as_worked_out_by_hand(demo, as_of):
    rows = {
        (programme, code): row
        for programme in ("TAQARUB", "MSRP")
        for code, row in iptt_rows(demo, programme, as_of).items()
    }
    assert {key: judged(rows[key]) for key in EXPECTED_INDICATORS} == EXPECTED_INDICATORS
    # Halfway through, the life-of-programme status still says "below" for TAQ-1: the contract's
    # reason for progress to date.
    assert (rows[("TAQARUB", "TAQ-1")]["lop_percent_of_target"], rows[("TAQARUB", "TAQ-1")]["lop_status"]) == (
        Decimal("51.33"),
        "below",
    )


# National targets: π to date = min(percent to date, 100), weighted by the alignments' weights.
EXPECTED_NATIONAL_TARGETS = {
    # NT-01: TAQ-1 (weight 0.5, 83.24) and TAQ-2 (weight 1, 84.21):
    # (0.5 × 83.24 + 84.21) / 1.5 = 125.83 / 1.5 = 83.886… → 83.89: below.
    "NT-01": (Decimal("83.89"), "below"),
    # NT-02: TAQ-4 (92.36) and MSR-1 (91.43): (92.36 + 91.43) / 2 = 91.895 → 91.90: on track.
    "NT-02": (Decimal("91.90"), "on_track"),
    # NT-05: TAQ-7 (75.22) and MSR-5 (96.71): (75.22 + 96.71) / 2 = 85.965 → 85.97: on track,
    # though one of its two indicators is below.
    "NT-05": (Decimal("85.97"), "on_track"),
}


def test_national_targets_to_date_as_worked_out_by_hand(demo, as_of):
    report = reports.alignment(access=demo, as_of=as_of)
    assert report["as_of"] == as_of
    found = {row["code"]: row["progress_to_date"] for row in report["national_targets"]}
    assert {code: (found[code], aligned_progress_status(found[code])) for code in EXPECTED_NATIONAL_TARGETS} == (
        EXPECTED_NATIONAL_TARGETS
    )


def test_the_demo_shows_a_mix_of_statuses_to_date(demo, as_of):
    statuses = {row["status_to_date"] for code in ("TAQARUB", "MSRP") for row in iptt_rows(demo, code, as_of).values()}
    assert {"below", "on_track"} <= statuses


@pytest.mark.parametrize("months_after", [0, 1, 2, 3])
def test_whatever_day_it_is_seeded_the_demo_shows_a_mix_of_statuses_to_date(demo, months_after):
    """What a visitor sees on the day the demo is seeded: the files' day moved by whole quarters
    to the quarter of today, so today lies between that day and three months after it. Over all
    of that span the mix holds, rather than drifting to "below" as the files' periods age."""
    calendar = demo_calendar(settings.BASE_DIR / "seeds")
    written_as_of = yaml.safe_load((settings.BASE_DIR / "seeds" / "00_calendar.yaml").read_text())["written_as_of"]
    day = calendar.moved(add_months(written_as_of, months_after) - datetime.timedelta(days=1 if months_after else 0))
    statuses = {row["status_to_date"] for code in ("TAQARUB", "MSRP") for row in iptt_rows(demo, code, day).values()}
    assert {"below", "on_track"} <= statuses, day


# The reporting cycle, as of the day the files are written as of (20 October 2026): Taqarub's
# quarters from October 2024 to June 2026 are due (July – September is due on 30 October).
WRITTEN_AS_OF = datetime.date(2026, 10, 20)


def completeness_rows(access, as_of):
    report = completeness(access=access, as_of=as_of, programme_id=Programme.objects.get(code="TAQARUB").pk)
    return {(row["indicator_code"], row["municipality_name"]): row for row in report["rows"]}, report


def test_the_demo_shows_results_on_time_late_and_missing(demo):
    as_of = demo_calendar(settings.BASE_DIR / "seeds").moved(WRITTEN_AS_OF)
    rows, report = completeness_rows(demo, as_of)

    def counts(code, municipality):
        row = rows[(code, municipality)]
        return row["expected"], row["on_time"], row["late"], row["missing"]

    # Ghadames sent all seven quarters within 30 days (the last one on 20 July, waiting for approval).
    assert counts("TAQ-1", "Ghadames") == (7, 7, 0, 0)
    # Nalut sent two quarters late (44 and 52 days after they ended), and its April – June figures
    # came from the programme team 41 days after.
    assert counts("TAQ-1", "Nalut") == (7, 4, 3, 0)
    # Zuwara's April – June figures are still a draft.
    assert counts("TAQ-1", "Zuwara") == (7, 6, 0, 1)
    # Tinley Park takes part through the twinning: it reports the visits, training and coaching it
    # hosted or delivered (one quarter 45 days after it ended), sends nil returns for the counts of
    # work the programme does not do with it, and leaves unreported the measures that do not apply
    # to it, such as the share of women on committees (TAQ-8).
    assert counts("TAQ-9", "Tinley Park") == (7, 6, 1, 0)
    assert counts("TAQ-1", "Tinley Park") == (7, 7, 0, 0)
    assert counts("TAQ-8", "Tinley Park") == (7, 0, 0, 7)
    national = report["totals"]["national"]
    # Of what was sent, most came on time; a few cells are missing.
    assert national["on_time"] > 4 * national["late"] > 0 and national["missing"] > 0


@pytest.mark.parametrize("months_after", [0, 1, 2, 3])
def test_whatever_day_it_is_seeded_the_demo_reads_as_a_programme_in_normal_life(demo, months_after):
    """Most due results reported (on time or late), a few missing: from three in four to nine in
    ten over every programme, from the files' day to the day before the next quarter's move (the
    July – September quarter falls due on 30 October in between)."""
    written_as_of = yaml.safe_load((settings.BASE_DIR / "seeds" / "00_calendar.yaml").read_text())["written_as_of"]
    day = demo_calendar(settings.BASE_DIR / "seeds").moved(
        add_months(written_as_of, months_after) - datetime.timedelta(days=1 if months_after else 0)
    )
    national = completeness(access=demo, as_of=day)["totals"]["national"]
    assert Decimal("0.75") <= national["rate"] <= Decimal("0.90"), (day, national)
    assert national["late"] > 0 and national["missing"] > 0


def test_demo_submissions_keep_the_day_they_were_sent_in_their_history(demo):
    calendar = demo_calendar(settings.BASE_DIR / "seeds")
    late = Result.objects.get(
        indicator__code="TAQ-1",
        municipality__name_en="Nalut",
        period_start=calendar.moved(datetime.date(2025, 1, 1)),
        disaggregation_category="",
    )
    sent = timezone.localtime(late.first_submitted_at)
    assert sent.date() == calendar.moved(datetime.date(2025, 3, 31)) + datetime.timedelta(days=44)
    assert late.submitted_at == late.first_submitted_at == late.reviewed_at
    assert late.history.earliest().history_date == late.first_submitted_at
