"""Reporting completeness (docs/design.md §6 `reports/completeness/`, docs/reporting-cycle.md).

A *cell* is one (indicator, municipality that takes part in its programme, period of the
indicator's frequency). A cell is *expected* once its period has ended and its due date — the
period end plus the programme's `reporting_due_days` — is on or before `as_of`. An expected cell
is

- **on time** when its total result (no disaggregation) now stands submitted or approved and was
  first submitted on or before the due date (in the project's time zone),
- **late** when it was first submitted after the due date but by `as_of`,
- **missing** otherwise: no total result, a draft or a returned one, or one first submitted after
  `as_of`.

`rate` = (on time + late) / expected, four decimal places. Rows are per (indicator,
municipality); the totals are by municipality, by programme and national, all over what the user
may see (`projects.access`: whole programmes, or only the user's own municipalities in a
programme seen through them).

On PostgreSQL one statement computes everything: the periods come from `generate_series` over
each indicator's programme dates (the rules of `indicators/periods.py`), the rows and the three
kinds of totals from one `GROUPING SETS`. Elsewhere (the SQLite demo) the same rules run in
Python over one read of the results. `cached_completeness` keeps the answer under a key that
moves with every result write (the result history grows) and every `report_version()` change.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import get_language

from indicators import periods
from indicators.models import Indicator, Result
from partners.models import Organisation
from projects.access import Access
from projects.models import Programme, Twinning, Workstream
from projects.selectors import participating_municipality_ids

from . import reports

RATE_QUANTUM = Decimal("0.0001")
REPORTED_STATUSES = (Result.Status.SUBMITTED, Result.Status.APPROVED)
MONTHS = periods.MONTHS_PER_PERIOD


def rate(*, expected: int, on_time: int, late: int) -> Decimal | None:
    """(on time + late) / expected, half-up to four places; None when nothing is expected."""
    if not expected:
        return None
    return (Decimal(on_time + late) / Decimal(expected)).quantize(RATE_QUANTUM, ROUND_HALF_UP)


@dataclass
class Scope:
    """What the user sees, as plain ids: programmes seen whole (None: all), and programmes seen
    through municipalities together with those municipalities."""

    full_programme_ids: frozenset[int] | None
    municipal_programme_ids: frozenset[int]
    own_municipality_ids: frozenset[int]

    @classmethod
    def of(cls, access: Access) -> Scope:
        return cls(
            full_programme_ids=access.fully_visible_programme_ids,
            municipal_programme_ids=frozenset(access.municipal_programme_ids),
            own_municipality_ids=frozenset(access.municipality_ids),
        )

    def allows(self, programme_id: int, municipality_id: int) -> bool:
        if self.full_programme_ids is None or programme_id in self.full_programme_ids:
            return True
        return programme_id in self.municipal_programme_ids and municipality_id in self.own_municipality_ids


def _status_of(first_submitted: datetime.datetime | None, due: datetime.date, as_of: datetime.date) -> str:
    """on_time, late or missing for one expected cell (the Python twin of the SQL CASE)."""
    if first_submitted is None:
        return "missing"
    day = timezone.localtime(first_submitted).date()
    if day <= due:
        return "on_time"
    return "late" if day <= as_of else "missing"


# The SQL ------------------------------------------------------------------------------------

# %(...)s placeholders are filled with table names; the values are query parameters.
#
# The statements are built of named CTEs. `DUE_PERIODS` and `PARTICIPANTS` are small (one row per
# indicator and due period, one per programme and municipality); `CELLS` is their product, one row
# per expected cell, which the reminders list. The report never builds the cells: it counts the
# reported results per (indicator, municipality) in one pass over the reported-totals index
# (`result_reported_total_idx`) and joins those counts to the 20,000-odd (indicator,
# municipality) rows, so the big side is never hashed on a five-column key (docs/performance.md).

DUE_PERIODS = """
ind AS (
    SELECT i.id AS indicator_id, i.programme_id, p.end_date, p.reporting_due_days AS due_days,
           m.step,
           (EXTRACT(YEAR FROM p.start_date)::int * 12 + EXTRACT(MONTH FROM p.start_date)::int - 1) AS month_index,
           p.fiscal_year_start_month - 1 AS fiscal_offset
    FROM {indicator} i
    JOIN {programme} p ON p.id = i.programme_id
    JOIN (VALUES ('monthly', 1), ('quarterly', 3), ('semiannual', 6), ('annual', 12)) AS m (frequency, step)
      ON m.frequency = i.frequency
    WHERE (%(all_programmes)s OR i.programme_id = ANY(%(programme_ids)s))
      AND (%(any_programme)s OR i.programme_id = %(programme_id)s)
),
first_period AS (
    -- The period that contains the programme's start date (indicators/periods.period_containing).
    SELECT ind.*, month_index - (((month_index - fiscal_offset) %% step) + step) %% step AS start_index
    FROM ind
),
cell_period AS (
    SELECT fp.indicator_id, fp.programme_id, s.period_start::date AS period_start,
           (s.period_start + make_interval(months => fp.step) - interval '1 day')::date AS period_end,
           fp.due_days
    FROM first_period fp,
    LATERAL generate_series(
        make_date(fp.start_index / 12, fp.start_index %% 12 + 1, 1)::timestamp,
        fp.end_date::timestamp,
        make_interval(months => fp.step)
    ) AS s (period_start)
),
due_period AS (
    SELECT indicator_id, programme_id, period_start, period_end, period_end + due_days AS due_date
    FROM cell_period
    WHERE period_end + due_days <= %(as_of)s
)"""

PARTICIPANTS = """
participant AS (
    -- Municipalities taking part in each programme, limited to what the user sees.
    SELECT programme_id, municipality_id
    FROM (
        SELECT t.programme_id, tm.organisation_id AS municipality_id
        FROM {twinning_municipalities} tm JOIN {twinning} t ON t.id = tm.twinning_id
        UNION
        SELECT w.programme_id, wm.organisation_id
        FROM {workstream_municipalities} wm JOIN {workstream} w ON w.id = wm.workstream_id
    ) taking_part
    JOIN {organisation} o ON o.id = taking_part.municipality_id AND o.kind = 'municipality'
    WHERE %(all_programmes)s OR programme_id = ANY(%(full_programme_ids)s)
       OR (programme_id = ANY(%(municipal_programme_ids)s) AND municipality_id = ANY(%(own_municipality_ids)s))
)"""

# The day a reported total result was first sent, in the project's time zone.
SUBMITTED_ON = "(COALESCE(r.first_submitted_at, r.submitted_at, r.created_at) AT TIME ZONE %(time_zone)s)::date"

# A total result (no disaggregation) that stands submitted or approved: the partial index
# `result_reported_total_idx` holds exactly these, with the columns read here.
REPORTED_TOTAL = """r.disaggregation_category = '' AND r.disaggregation_option = ''
     AND r.status IN ('submitted', 'approved')"""

COMPLETENESS_SQL = f"""
WITH {DUE_PERIODS},
{PARTICIPANTS},
reported AS (
    SELECT indicator_id, municipality_id,
           COUNT(*) FILTER (WHERE submitted_on <= due_date) AS on_time,
           COUNT(*) FILTER (WHERE submitted_on > due_date AND submitted_on <= %(as_of)s) AS late
    FROM (
        SELECT dp.indicator_id, r.municipality_id, dp.due_date, {SUBMITTED_ON} AS submitted_on
        FROM due_period dp
        JOIN {{result}} r
          ON r.indicator_id = dp.indicator_id AND r.period_start = dp.period_start AND r.period_end = dp.period_end
         AND {REPORTED_TOTAL}
    ) sent
    GROUP BY indicator_id, municipality_id
),
expected AS (
    SELECT programme_id, indicator_id, COUNT(*) AS periods FROM due_period GROUP BY programme_id, indicator_id
),
row_counts AS (
    SELECT e.programme_id, e.indicator_id, pa.municipality_id, e.periods AS expected,
           COALESCE(rp.on_time, 0) AS on_time, COALESCE(rp.late, 0) AS late
    FROM expected e
    JOIN participant pa ON pa.programme_id = e.programme_id
    LEFT JOIN reported rp ON rp.indicator_id = e.indicator_id AND rp.municipality_id = pa.municipality_id
)
SELECT GROUPING(programme_id, indicator_id, municipality_id) AS level,
       programme_id, indicator_id, municipality_id,
       COALESCE(SUM(expected), 0)::int AS expected, COALESCE(SUM(on_time), 0)::int AS on_time,
       COALESCE(SUM(late), 0)::int AS late
FROM row_counts
GROUP BY GROUPING SETS ((programme_id, indicator_id, municipality_id), (municipality_id), (programme_id), ())
"""

# Every expected cell due between two dates whose total result is not submitted or approved now.
MISSING_CELLS_SQL = f"""
WITH {DUE_PERIODS},
{PARTICIPANTS}
SELECT dp.programme_id, dp.indicator_id, pa.municipality_id, dp.period_start, dp.period_end, dp.due_date
FROM due_period dp
JOIN participant pa ON pa.programme_id = dp.programme_id
WHERE dp.due_date >= %(due_from)s
  AND NOT EXISTS (
    SELECT 1 FROM {{result}} r
    WHERE r.indicator_id = dp.indicator_id AND r.municipality_id = pa.municipality_id
      AND r.period_start = dp.period_start AND r.period_end = dp.period_end AND {REPORTED_TOTAL}
  )
ORDER BY dp.programme_id, dp.indicator_id, pa.municipality_id, dp.period_start
"""

# GROUPING(programme_id, indicator_id, municipality_id): a bit per column left out.
LEVEL_ROW, LEVEL_MUNICIPALITY, LEVEL_PROGRAMME, LEVEL_NATIONAL = 0, 0b110, 0b011, 0b111


def _tables() -> dict[str, str]:
    return {
        "indicator": Indicator._meta.db_table,
        "programme": Programme._meta.db_table,
        "result": Result._meta.db_table,
        "organisation": Organisation._meta.db_table,
        "twinning": Twinning._meta.db_table,
        "twinning_municipalities": Twinning.municipalities.through._meta.db_table,
        "workstream": Workstream._meta.db_table,
        "workstream_municipalities": Workstream.municipalities.through._meta.db_table,
    }


@dataclass
class Counts:
    expected: int = 0
    on_time: int = 0
    late: int = 0

    @property
    def missing(self) -> int:
        return self.expected - self.on_time - self.late

    def add(self, status: str) -> None:
        self.expected += 1
        if status == "on_time":
            self.on_time += 1
        elif status == "late":
            self.late += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "on_time": self.on_time,
            "late": self.late,
            "missing": self.missing,
            "rate": rate(expected=self.expected, on_time=self.on_time, late=self.late),
        }


@dataclass
class Tally:
    """The counts at every level, before names are attached."""

    rows: dict[tuple[int, int, int], Counts]  # (programme, indicator, municipality)
    municipalities: dict[int, Counts]
    programmes: dict[int, Counts]
    national: Counts


def _tally_sql(scope: Scope, programme_id: int | None, as_of: datetime.date) -> Tally:
    full = scope.full_programme_ids
    visible = None if full is None else sorted(full | scope.municipal_programme_ids)
    params = {
        "all_programmes": full is None,
        "programme_ids": visible or [],
        "any_programme": programme_id is None,
        "programme_id": programme_id or 0,
        "full_programme_ids": sorted(full or ()),
        "municipal_programme_ids": sorted(scope.municipal_programme_ids),
        "own_municipality_ids": sorted(scope.own_municipality_ids),
        "as_of": as_of,
        "time_zone": settings.TIME_ZONE,
    }
    tally = Tally({}, {}, {}, Counts())
    with connection.cursor() as cursor:
        cursor.execute(COMPLETENESS_SQL.format(**_tables()), params)
        for level, programme, indicator, municipality, expected, on_time, late in cursor.fetchall():
            counts = Counts(expected, on_time, late)
            if level == LEVEL_ROW:
                tally.rows[(programme, indicator, municipality)] = counts
            elif level == LEVEL_MUNICIPALITY:
                tally.municipalities[municipality] = counts
            elif level == LEVEL_PROGRAMME:
                tally.programmes[programme] = counts
            elif level == LEVEL_NATIONAL:
                tally.national = counts
    return tally


# The same rules in Python (the SQLite demo) ---------------------------------------------------


@dataclass(frozen=True)
class ExpectedCell:
    programme_id: int
    indicator_id: int
    municipality_id: int
    period_start: datetime.date
    period_end: datetime.date
    due_date: datetime.date


def expected_cells(scope: Scope, programme_id: int | None, as_of: datetime.date) -> Iterator[ExpectedCell]:
    """Every expected cell (period ended and due by `as_of`) the scope sees, from
    `indicators.periods`: the definition the SQL follows, used where it cannot run."""
    programmes = Programme.objects.all()
    if programme_id is not None:
        programmes = programmes.filter(pk=programme_id)
    if scope.full_programme_ids is not None:
        programmes = programmes.filter(pk__in=scope.full_programme_ids | scope.municipal_programme_ids)
    programmes = {
        p.pk: p
        for p in programmes.only("id", "start_date", "end_date", "fiscal_year_start_month", "reporting_due_days")
    }
    participants = participating_municipality_ids(set(programmes))
    municipalities = set(Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY).values_list("pk", flat=True))
    indicators = Indicator.objects.filter(programme_id__in=programmes).values_list("pk", "programme_id", "frequency")
    for indicator_id, owner_id, frequency in indicators:
        programme = programmes[owner_id]
        spans = periods.periods_between(
            programme.start_date, programme.end_date, frequency, programme.fiscal_year_start_month
        )
        for start, end in spans:
            due = end + datetime.timedelta(days=programme.reporting_due_days)
            if due > as_of:
                continue
            for municipality_id in sorted(participants[owner_id] & municipalities):
                if scope.allows(owner_id, municipality_id):
                    yield ExpectedCell(owner_id, indicator_id, municipality_id, start, end, due)


def _tally_python(scope: Scope, programme_id: int | None, as_of: datetime.date) -> Tally:
    cells = list(expected_cells(scope, programme_id, as_of))
    submitted: dict[tuple, datetime.datetime] = {}
    totals = Result.objects.filter(
        indicator_id__in={c.indicator_id for c in cells},
        disaggregation_category="",
        disaggregation_option="",
        status__in=REPORTED_STATUSES,
    ).values_list(
        "indicator_id",
        "municipality_id",
        "period_start",
        "period_end",
        "first_submitted_at",
        "submitted_at",
        "created_at",
    )
    for indicator_id, municipality_id, start, end, first, last, created in totals:
        submitted[(indicator_id, municipality_id, start, end)] = first or last or created
    tally = Tally({}, defaultdict(Counts), defaultdict(Counts), Counts())
    for cell in cells:
        status = _status_of(
            submitted.get((cell.indicator_id, cell.municipality_id, cell.period_start, cell.period_end)),
            cell.due_date,
            as_of,
        )
        tally.rows.setdefault((cell.programme_id, cell.indicator_id, cell.municipality_id), Counts()).add(status)
        tally.municipalities[cell.municipality_id].add(status)
        tally.programmes[cell.programme_id].add(status)
        tally.national.add(status)
    return tally


# The report ---------------------------------------------------------------------------------


def _name(english: str, arabic: str) -> str:
    return (arabic or english) if get_language() == "ar" else (english or arabic)


def completeness(*, access: Access, as_of: datetime.date, programme_id: int | None = None) -> dict[str, Any]:
    """The completeness report over what `access` sees (the caller checks that the user sees
    `programme_id`, when given). Plain data: ints, Decimal rates, dates."""
    scope = Scope.of(access)
    if connection.vendor == "postgresql":
        tally = _tally_sql(scope, programme_id, as_of)
    else:
        tally = _tally_python(scope, programme_id, as_of)
    indicators = {
        pk: (code, _name(en, ar))
        for pk, code, en, ar in Indicator.objects.filter(pk__in={key[1] for key in tally.rows}).values_list(
            "pk", "code", "name_en", "name_ar"
        )
    }
    municipalities = {
        pk: _name(en, ar)
        for pk, en, ar in Organisation.objects.filter(pk__in=set(tally.municipalities)).values_list(
            "pk", "name_en", "name_ar"
        )
    }
    programmes = {
        pk: (code, _name(en, ar))
        for pk, code, en, ar in Programme.objects.filter(pk__in=set(tally.programmes)).values_list(
            "pk", "code", "name_en", "name_ar"
        )
    }
    rows = [
        {
            "programme": programme,
            "programme_code": programmes[programme][0],
            "indicator": indicator,
            "indicator_code": indicators[indicator][0],
            "indicator_name": indicators[indicator][1],
            "municipality": municipality,
            "municipality_name": municipalities[municipality],
            **counts.as_dict(),
        }
        for (programme, indicator, municipality), counts in tally.rows.items()
    ]
    rows.sort(key=lambda r: (r["programme_code"], r["indicator_code"], r["municipality_name"], r["municipality"]))
    by_municipality = [
        {"municipality": pk, "name": municipalities[pk], **counts.as_dict()}
        for pk, counts in sorted(tally.municipalities.items(), key=lambda item: (municipalities[item[0]], item[0]))
    ]
    by_programme = [
        {"programme": pk, "code": programmes[pk][0], "name": programmes[pk][1], **counts.as_dict()}
        for pk, counts in sorted(tally.programmes.items(), key=lambda item: programmes[item[0]][0])
    ]
    return {
        "programme": programme_id,
        "as_of": as_of,
        "rows": rows,
        "totals": {
            "by_municipality": by_municipality,
            "by_programme": by_programme,
            "national": tally.national.as_dict(),
        },
        "computed_at": timezone.now(),
    }


def results_version() -> int:
    """Grows with every result write that goes through the services or the admin (each leaves a
    history record, deletions too): one index-only read."""
    return Result.history.aggregate(last=Max("history_id"))["last"] or 0


def cached_completeness(
    *, access: Access, as_of: datetime.date, programme_id: int | None = None, kind: str = "completeness"
) -> Any:
    """`completeness(...)` through the report cache; `kind` names the form kept (the caller may
    cache rendered bytes under its own kind via `cache_key`)."""
    return reports.cached(
        cache_key(kind, access, as_of, programme_id),
        lambda: completeness(access=access, as_of=as_of, programme_id=programme_id),
    )


def cache_key(kind: str, access: Access, as_of: datetime.date, programme_id: int | None) -> str | None:
    return reports.cache_key(kind, access, programme_id or "all", as_of.isoformat(), results_version())


def missing_cells(*, due_from: datetime.date, due_to: datetime.date) -> list[ExpectedCell]:
    """Every cell, over all programmes, due between the two dates (inclusive) whose total result
    is not submitted or approved now: what the reminders chase."""
    return list(_missing_cells(due_from, due_to))


def _missing_cells(due_from: datetime.date, due_to: datetime.date) -> Iterable[ExpectedCell]:
    everything = Scope(None, frozenset(), frozenset())
    if connection.vendor != "postgresql":
        reported = set(
            Result.objects.filter(
                disaggregation_category="", disaggregation_option="", status__in=REPORTED_STATUSES
            ).values_list("indicator_id", "municipality_id", "period_start", "period_end")
        )
        for cell in expected_cells(everything, None, due_to):
            key = (cell.indicator_id, cell.municipality_id, cell.period_start, cell.period_end)
            if cell.due_date >= due_from and key not in reported:
                yield cell
        return
    sql = MISSING_CELLS_SQL.format(**_tables())
    params = {
        "all_programmes": True,
        "programme_ids": [],
        "any_programme": True,
        "programme_id": 0,
        "full_programme_ids": [],
        "municipal_programme_ids": [],
        "own_municipality_ids": [],
        "as_of": due_to,
        "due_from": due_from,
        "time_zone": settings.TIME_ZONE,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            yield ExpectedCell(*row)
