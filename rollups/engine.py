"""The rollup engine: recomputes stored rollups from approved results and targets (docs/design.md §4).

On PostgreSQL one SQL statement computes every rollup cell of a set of indicators (all scopes,
periods, LoP rows and disaggregations), compares them with the stored rows in one hashed
`EXCEPT`, upserts those that are new or differ (`INSERT ... ON CONFLICT ... DO UPDATE`) and deletes
the rows that no longer apply. The cell variant (`recompute_requested_cells`) restricts all of
that to the groups a few changed results feed. The number of queries per call is fixed (session
settings, advisory lock, version read, taking cell requests, compute+write, state update)
whatever the number of municipalities, periods or rows (tests/indicators/test_engine_queries.py).

Every write for an indicator happens under `pg_advisory_xact_lock(ADVISORY_LOCK_CLASS, id)`, so
two workers never interleave writes for one indicator; everything is one transaction, so a worker
killed midway leaves the previous rows intact. `work_mem` is raised to 256 MB for the transaction
(chunks of 50 indicators sort and hash in memory); lower `DEFAULT_CHUNK` on a small server.

On SQLite (the embedded demo only) the same rules run in Python through `rollup_math`, over one
read per table, and the differences are written in bulk: SQLite has no exact decimal arithmetic,
so computing there in SQL would give float-rounded numbers.

The arithmetic conventions (divisions to 20 places, 6-place actuals and targets, 2-place
percentages, statuses on the stored percentage) are those of `rollup_math`; the SQL mirrors them
so that the two agree value for value (tested in tests/indicators/test_engine_matches_math.py).

Entry points: `recompute_indicators`, `recompute_requested_cells` (the fast path after single
result changes), `recompute_programme`, `recompute_all`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import connection, connections, transaction
from django.utils import timezone

from common.locks import LockClass
from indicators.models import Indicator, Result, Target
from projects.models import Twinning
from rollups import rollup_math
from rollups.models import IndicatorRollupState, Rollup, RollupCellRequest

ADVISORY_LOCK_CLASS = int(LockClass.INDICATOR_ROLLUPS)
DEFAULT_CHUNK = 50
# Indicators per rebuild transaction: small enough that a chunk's sorts and hashes stay within
# work_mem (a national-scale indicator has about 10,000 rollup rows) and that `jobs` connections
# share the work evenly; measured on bench_rollups, 25 is as fast as larger chunks or faster.
REBUILD_CHUNK = 25


@dataclass
class RecomputeSummary:
    """What a recompute did. `rows_corrected` = rows inserted, changed or deleted."""

    indicators: int = 0
    rows_written: int = 0
    rows_corrected: int = 0
    seconds: float = 0.0

    @classmethod
    def of_transaction(
        cls, *, indicators: int, desired: int, changed: int, removed: int, started: float
    ) -> RecomputeSummary:
        """One recompute transaction: `desired` rows now stored, of which `changed` were written,
        plus `removed` rows deleted, since `started` (a `time.perf_counter()` reading)."""
        return cls(
            indicators=indicators,
            rows_written=desired,
            rows_corrected=changed + removed,
            seconds=time.perf_counter() - started,
        )

    def add(self, other: RecomputeSummary) -> None:
        self.indicators += other.indicators
        self.rows_written += other.rows_written
        self.rows_corrected += other.rows_corrected
        self.seconds += other.seconds


def _div(dividend: str, divisor: str) -> str:
    """SQL for rollup_math.divide: carried to 30 places by PostgreSQL, rounded half-up to 20."""
    return f"round(({dividend})::numeric(65, 30) / ({divisor}), {rollup_math.DIVISION_PLACES})"


def _compute_sql(*, narrowed: bool) -> str:
    """The compute-and-write statement. %(ids)s: the indicators; %(now)s: computed_at.

    narrowed: also %(cell_indicators)s, %(cell_municipalities)s, %(cell_categories)s,
    %(cell_options)s — the (indicator, municipality, disaggregation) cells whose results changed;
    only the rollup groups that depend on them (that municipality, its current twinnings and the
    programme, for that disaggregation) are recomputed and cleaned.
    """
    cells = (
        """
cells_in AS (
    SELECT * FROM unnest(%(cell_indicators)s::bigint[], %(cell_municipalities)s::bigint[],
                         %(cell_categories)s::varchar[], %(cell_options)s::varchar[])
        AS c(indicator_id, municipality_id, cat, opt)
),"""
        if narrowed
        else ""
    )
    only_cell_disaggregations = (
        "AND (r.indicator_id, r.disaggregation_category, r.disaggregation_option) IN "
        "(SELECT indicator_id, cat, opt FROM cells_in)"
        if narrowed
        else ""
    )
    only_cell_municipalities = (
        "WHERE (indicator_id, municipality_id, cat, opt) IN "
        "(SELECT indicator_id, municipality_id, cat, opt FROM cells_in)"
        if narrowed
        else ""
    )
    groups = (
        """
groups AS (
    SELECT indicator_id, 'municipality'::varchar AS scope, municipality_id AS scope_id, cat, opt FROM cells_in
    UNION
    SELECT c.indicator_id, 'twinning', m.twinning_id, c.cat, c.opt
    FROM cells_in c JOIN members m ON m.indicator_id = c.indicator_id AND m.municipality_id = c.municipality_id
    UNION
    SELECT c.indicator_id, 'programme', ind.programme_id, c.cat, c.opt
    FROM cells_in c JOIN ind ON ind.id = c.indicator_id
),"""
        if narrowed
        else ""
    )
    in_groups = (
        "WHERE (indicator_id, scope, scope_id, cat, opt) IN "
        "(SELECT indicator_id, scope, scope_id, cat, opt FROM groups)"
        if narrowed
        else ""
    )
    in_total_groups = (
        "WHERE (indicator_id, scope, scope_id) IN (SELECT indicator_id, scope, scope_id FROM groups WHERE cat = '')"
        if narrowed
        else ""
    )
    programme_total_wanted = (
        "AND (ind.id, ind.programme_id) IN (SELECT indicator_id, scope_id FROM groups "
        "WHERE scope = 'programme' AND cat = '')"
        if narrowed
        else ""
    )
    removable = (
        "AND (r.indicator_id, r.scope, r.scope_id, r.disaggregation_category, r.disaggregation_option) IN "
        "(SELECT indicator_id, scope, scope_id, cat, opt FROM groups)"
        if narrowed
        else ""
    )
    # A few dozen rows (cells): ON CONFLICT's index probes are cheapest. Whole indicators: compare
    # everything in one hashed EXCEPT and write only what changed.
    write_source = "desired" if narrowed else "changed"
    return f"""/* rollup engine: recompute indicators */
WITH ind AS (
    SELECT id, programme_id, measure, direction, lop_target,
           CASE WHEN measure = 'number' THEN time_aggregation ELSE 'latest' END AS agg
    FROM indicators_indicator
    WHERE id = ANY(%(ids)s)
),{cells}
res AS (
    SELECT r.indicator_id, r.municipality_id, r.period_start, r.period_end,
           r.disaggregation_category COLLATE "C" AS cat, r.disaggregation_option COLLATE "C" AS opt,
           r.value, r.numerator, r.denominator
    FROM indicators_result r
    JOIN ind ON ind.id = r.indicator_id
    WHERE r.status = 'approved'
      AND (ind.measure <> 'percentage' OR (r.numerator IS NOT NULL AND r.denominator IS NOT NULL))
      {only_cell_disaggregations}
),
members AS (
    SELECT ind.id AS indicator_id, tm.twinning_id, tm.organisation_id AS municipality_id
    FROM ind
    JOIN projects_twinning t ON t.programme_id = ind.programme_id
    JOIN projects_twinning_municipalities tm ON tm.twinning_id = t.id
),{groups}
all_parts AS (
    SELECT indicator_id, 'municipality'::varchar COLLATE "C" AS scope, municipality_id AS scope_id,
           period_start, period_end, cat, opt,
           value AS s, 1::bigint AS n, numerator AS num, denominator AS den
    FROM res {only_cell_municipalities}
    UNION ALL
    SELECT r.indicator_id, 'twinning', m.twinning_id, r.period_start, r.period_end, r.cat, r.opt,
           sum(r.value), count(*), sum(r.numerator), sum(r.denominator)
    FROM res r
    JOIN members m ON m.indicator_id = r.indicator_id AND m.municipality_id = r.municipality_id
    GROUP BY r.indicator_id, m.twinning_id, r.period_start, r.period_end, r.cat, r.opt
    UNION ALL
    SELECT r.indicator_id, 'programme', ind.programme_id, r.period_start, r.period_end, r.cat, r.opt,
           sum(r.value), count(*), sum(r.numerator), sum(r.denominator)
    FROM res r
    JOIN ind ON ind.id = r.indicator_id
    GROUP BY r.indicator_id, ind.programme_id, r.period_start, r.period_end, r.cat, r.opt
),
parts AS (
    SELECT * FROM all_parts {in_groups}
),
-- Read twice, for totals and for disaggregations: each read's filter on `cat` reaches down into
-- the aggregation, which costs less than storing every row once (compute 10.8 s -> 10.1 s).
vals AS NOT MATERIALIZED (
    SELECT p.indicator_id, p.scope, p.scope_id, p.period_start, p.period_end, p.cat, p.opt,
           CASE ind.measure
               WHEN 'number' THEN p.s
               WHEN 'percentage' THEN {_div("100 * p.num", "p.den")}
               ELSE {_div("p.s", "p.n")}
           END AS a
    FROM parts p
    JOIN ind ON ind.id = p.indicator_id
),
all_tgt AS (
    SELECT t.indicator_id, 'municipality'::varchar COLLATE "C" AS scope, t.municipality_id AS scope_id,
           t.period_start, t.period_end, t.value AS target
    FROM indicators_target t
    JOIN ind ON ind.id = t.indicator_id
    WHERE t.municipality_id IS NOT NULL
    UNION ALL
    SELECT t.indicator_id, 'twinning', m.twinning_id, t.period_start, t.period_end,
           CASE WHEN ind.measure = 'number' THEN sum(t.value) ELSE {_div("sum(t.value)", "count(*)")} END
    FROM indicators_target t
    JOIN ind ON ind.id = t.indicator_id
    JOIN members m ON m.indicator_id = t.indicator_id AND m.municipality_id = t.municipality_id
    GROUP BY t.indicator_id, m.twinning_id, t.period_start, t.period_end, ind.measure
    UNION ALL
    SELECT t.indicator_id, 'programme', ind.programme_id, t.period_start, t.period_end,
           COALESCE(
               max(t.value) FILTER (WHERE t.municipality_id IS NULL),
               CASE WHEN ind.measure = 'number'
                    THEN sum(t.value) FILTER (WHERE t.municipality_id IS NOT NULL)
                    ELSE {
        _div(
            "sum(t.value) FILTER (WHERE t.municipality_id IS NOT NULL)",
            "nullif(count(*) FILTER (WHERE t.municipality_id IS NOT NULL), 0)",
        )
    }
               END)
    FROM indicators_target t
    JOIN ind ON ind.id = t.indicator_id
    GROUP BY t.indicator_id, ind.programme_id, t.period_start, t.period_end, ind.measure
),
tgt AS (
    SELECT * FROM all_tgt {in_total_groups}
),
cells AS (
    SELECT COALESCE(v.indicator_id, g.indicator_id) AS indicator_id,
           COALESCE(v.scope, g.scope) AS scope,
           COALESCE(v.scope_id, g.scope_id) AS scope_id,
           COALESCE(v.period_start, g.period_start) AS period_start,
           COALESCE(v.period_end, g.period_end) AS period_end,
           ''::varchar COLLATE "C" AS cat, ''::varchar COLLATE "C" AS opt, v.a, g.target
    FROM (SELECT * FROM vals WHERE cat = '') v
    FULL JOIN tgt g
      ON g.indicator_id = v.indicator_id AND g.scope = v.scope AND g.scope_id = v.scope_id
     AND g.period_start = v.period_start AND g.period_end = v.period_end
    UNION ALL
    SELECT indicator_id, scope, scope_id, period_start, period_end, cat, opt, a, NULL
    FROM vals WHERE cat <> ''
),
periodic AS (
    -- Only a cumulative indicator's periods need their series in order (a running total);
    -- every other period is its own cell, with no sort at all.
    SELECT c.indicator_id, c.scope, c.scope_id, c.period_start, c.period_end, c.cat, c.opt,
           c.a AS actual, c.target
    FROM cells c
    JOIN ind ON ind.id = c.indicator_id
    WHERE ind.agg <> 'cumulative'
    UNION ALL
    SELECT c.indicator_id, c.scope, c.scope_id, c.period_start, c.period_end, c.cat, c.opt,
           sum(c.a) OVER (PARTITION BY c.indicator_id, c.scope, c.scope_id, c.cat, c.opt
                          ORDER BY c.period_start, c.period_end ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           c.target
    FROM cells c
    JOIN ind ON ind.id = c.indicator_id
    WHERE ind.agg = 'cumulative'
),
series AS (
    -- One hashed pass over the cells gives every LoP value of a series. "Latest" is the value of
    -- the last period (by start, then end, as rollup_math orders them) that has one: the greatest
    -- [start, end, value] triple in days since year 1, as numeric arrays compare element by element.
    SELECT indicator_id, scope, scope_id, cat, opt,
           sum(a) AS total_a,
           sum(target) AS total_target,
           (max(ARRAY[(period_start - DATE '0001-01-01')::numeric, (period_end - DATE '0001-01-01')::numeric, a])
               FILTER (WHERE a IS NOT NULL))[3] AS latest_a,
           (max(ARRAY[(period_start - DATE '0001-01-01')::numeric, (period_end - DATE '0001-01-01')::numeric,
                      target])
               FILTER (WHERE target IS NOT NULL))[3] AS latest_target
    FROM cells
    GROUP BY indicator_id, scope, scope_id, cat, opt
),
lop AS (
    SELECT s.indicator_id, s.scope, s.scope_id, NULL::date AS period_start, NULL::date AS period_end, s.cat, s.opt,
           CASE WHEN ind.agg = 'latest' THEN s.latest_a ELSE s.total_a END AS actual,
           CASE WHEN s.scope = 'programme' AND s.cat = '' AND ind.lop_target IS NOT NULL THEN ind.lop_target
                WHEN ind.agg = 'sum' THEN s.total_target
                ELSE s.latest_target
           END AS target
    FROM series s
    JOIN ind ON ind.id = s.indicator_id
    UNION ALL
    SELECT ind.id, 'programme', ind.programme_id, NULL, NULL, '', '', NULL, ind.lop_target
    FROM ind
    WHERE TRUE {programme_total_wanted}
      AND ind.id NOT IN (SELECT c.indicator_id FROM cells c WHERE c.scope = 'programme' AND c.cat = '')
),
judged AS (
    SELECT x.*,
           round(CASE
               WHEN x.actual IS NULL OR x.target IS NULL THEN NULL
               WHEN ind.direction = 'increase' THEN
                   CASE WHEN x.target = 0 THEN NULL ELSE {_div("100 * x.actual", "x.target")} END
               ELSE CASE WHEN x.actual = 0 THEN NULL ELSE {_div("100 * x.target", "x.actual")} END
           END, {rollup_math.PERCENT_PLACES}) AS pct
    FROM (SELECT * FROM periodic UNION ALL SELECT * FROM lop) x
    JOIN ind ON ind.id = x.indicator_id
),
desired AS (
    SELECT indicator_id, scope, scope_id, period_start, period_end, cat, opt,
           round(actual, {rollup_math.VALUE_PLACES}) AS actual,
           round(target, {rollup_math.VALUE_PLACES}) AS target,
           pct,
           CASE WHEN actual IS NULL THEN 'no_data'
                WHEN target IS NULL OR target = 0 THEN 'no_target'
                WHEN pct IS NULL THEN 'above'
                WHEN pct < {rollup_math.BELOW_THRESHOLD} THEN 'below'
                WHEN pct > {rollup_math.ABOVE_THRESHOLD} THEN 'above'
                ELSE 'on_track'
           END AS status
    FROM judged
),
existing AS (
    SELECT r.indicator_id, r.scope, r.scope_id, r.period_start, r.period_end,
           r.disaggregation_category AS cat, r.disaggregation_option AS opt,
           r.actual, r.target, r.percent_of_target AS pct, r.status
    FROM indicators_rollup r
    WHERE r.indicator_id = ANY(%(ids)s) {removable}
),
-- Only rows that are new or differ are written: comparing in one hashed set operation is much
-- cheaper than letting ON CONFLICT probe the index for every unchanged row.
changed AS (
    SELECT indicator_id, scope, scope_id, period_start, period_end, cat, opt, actual, target, pct, status
    FROM desired
    EXCEPT
    SELECT indicator_id, scope, scope_id, period_start, period_end, cat, opt, actual, target, pct, status
    FROM existing
),
upsert_periods AS (
    INSERT INTO indicators_rollup AS r
        (indicator_id, scope, scope_id, period_start, period_end, disaggregation_category,
         disaggregation_option, actual, target, percent_of_target, status, computed_at)
    SELECT indicator_id, scope, scope_id, period_start, period_end, cat, opt,
           actual, target, pct, status, %(now)s
    FROM {write_source} WHERE period_start IS NOT NULL
    ON CONFLICT (indicator_id, scope_id, period_start, period_end, scope,
                 disaggregation_category, disaggregation_option)
    DO UPDATE SET actual = EXCLUDED.actual, target = EXCLUDED.target,
                  percent_of_target = EXCLUDED.percent_of_target, status = EXCLUDED.status,
                  computed_at = EXCLUDED.computed_at
    WHERE (r.actual, r.target, r.percent_of_target, r.status)
          IS DISTINCT FROM (EXCLUDED.actual, EXCLUDED.target, EXCLUDED.percent_of_target, EXCLUDED.status)
    RETURNING 1
),
upsert_lop AS (
    INSERT INTO indicators_rollup AS r
        (indicator_id, scope, scope_id, period_start, period_end, disaggregation_category,
         disaggregation_option, actual, target, percent_of_target, status, computed_at)
    SELECT indicator_id, scope, scope_id, NULL, NULL, cat, opt, actual, target, pct, status, %(now)s
    FROM {write_source} WHERE period_start IS NULL
    ON CONFLICT (indicator_id, scope, scope_id, disaggregation_category, disaggregation_option)
        WHERE period_start IS NULL
    DO UPDATE SET actual = EXCLUDED.actual, target = EXCLUDED.target,
                  percent_of_target = EXCLUDED.percent_of_target, status = EXCLUDED.status,
                  computed_at = EXCLUDED.computed_at
    WHERE (r.actual, r.target, r.percent_of_target, r.status)
          IS DISTINCT FROM (EXCLUDED.actual, EXCLUDED.target, EXCLUDED.percent_of_target, EXCLUDED.status)
    RETURNING 1
),
removed AS (
    DELETE FROM indicators_rollup r
    WHERE r.indicator_id = ANY(%(ids)s) {removable}
      -- NOT IN over a hashed subplan: an anti-join the planner cannot turn quadratic.
      AND (r.indicator_id, r.scope, r.scope_id, COALESCE(r.period_start, DATE '0001-01-01'),
           r.disaggregation_category, r.disaggregation_option) NOT IN (
          SELECT d.indicator_id, d.scope, d.scope_id, COALESCE(d.period_start, DATE '0001-01-01'), d.cat, d.opt
          FROM desired d
      )
    RETURNING 1
)
SELECT (SELECT count(*) FROM desired),
       (SELECT count(*) FROM upsert_periods) + (SELECT count(*) FROM upsert_lop),
       (SELECT count(*) FROM removed)
"""


_COMPUTE_SQL = _compute_sql(narrowed=False)
_COMPUTE_CELLS_SQL = _compute_sql(narrowed=True)

# The rebuild (`rebuild_indicators`) uses the whole-indicator statement's `desired` part in two ways.
# Nothing stored yet for these indicators (a first build, a restore): every row is new, so they go
# in with one plain INSERT of the computed rows. Otherwise (the nightly reconcile) the rows are
# computed into a temporary table, analysed, and compared with the stored ones in one hashed
# `EXCEPT` by the statement's compare-and-write part, which writes only what differs.
_DESIRED_END = _COMPUTE_SQL.index(",\nexisting AS (")
_DESIRED_COLUMNS = "indicator_id, scope, scope_id, period_start, period_end, cat, opt, actual, target, pct, status"
_INSERT_DESIRED_SQL = (
    "/* rollup engine: bulk insert a rebuild */\n"
    "INSERT INTO indicators_rollup\n"
    "    (indicator_id, scope, scope_id, period_start, period_end, disaggregation_category,\n"
    "     disaggregation_option, actual, target, percent_of_target, status, computed_at)\n"
    f"{_COMPUTE_SQL[:_DESIRED_END]}\n"
    # Not sorted into the unique index's order: in isolation that makes the insert 30 % faster,
    # but in this statement the sort costs more than it saves (full rebuild: 13.2 s against 12.6 s).
    f"SELECT {_DESIRED_COLUMNS}, %(now)s FROM desired"
)
_BUILD_FRESH_SQL = (
    f"CREATE TEMPORARY TABLE rollup_fresh ON COMMIT DROP AS {_COMPUTE_SQL[:_DESIRED_END]}\n"
    f"SELECT {_DESIRED_COLUMNS} FROM desired"
)
_WRITE_FRESH_SQL = (
    f"/* rollup engine: write a rebuild's changes */\nWITH desired AS (SELECT {_DESIRED_COLUMNS} FROM rollup_fresh)"
    + _COMPUTE_SQL[_DESIRED_END:]
)


def recompute_indicators(indicator_ids: Iterable[int]) -> RecomputeSummary:
    """Bring every rollup row of these indicators up to date from source, in one transaction.

    Idempotent: running it twice, or concurrently, gives the same rows (a per-indicator advisory
    lock serialises concurrent runs on PostgreSQL). Unknown ids are ignored. Marks the indicators
    computed with the request version seen *before* computing (see IndicatorRollupState).
    """
    ids = sorted({int(indicator_id) for indicator_id in indicator_ids})
    if not ids:
        return RecomputeSummary()
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            versions = _lock_and_read_versions(ids)
            _take_cell_requests(ids)  # covered by this recompute
            desired, changed, removed = _compute_and_write_postgresql(ids)
        else:
            versions = dict(
                IndicatorRollupState.objects.filter(indicator_id__in=ids).values_list(
                    "indicator_id", "requested_version"
                )
            )
            _take_cell_requests(ids)
            desired, changed, removed = _compute_and_write_python(ids)
        _mark_computed(ids, versions)
    return RecomputeSummary.of_transaction(
        indicators=len(ids), desired=desired, changed=changed, removed=removed, started=started
    )


def recompute_requested_cells(indicator_id: int) -> RecomputeSummary:
    """Recompute only the rollup groups that depend on the indicator's requested cells.

    Takes (deletes) the indicator's `RollupCellRequest` rows and recomputes, in the same
    transaction and under the indicator's lock, the groups (municipality, its current twinnings,
    the programme) × disaggregation those cells feed. Requests committed meanwhile stay for their
    own task. Does not touch the full-recompute versions. Returns an empty summary when there
    was nothing to take (a duplicate delivery).
    """
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor != "postgresql":
            taken = _take_cell_requests([indicator_id])
            if not taken:
                return RecomputeSummary()
            desired, changed, removed = _compute_and_write_python([indicator_id])
        else:
            _lock_and_read_versions([indicator_id])
            taken = _take_cell_requests([indicator_id])
            if not taken:
                return RecomputeSummary()
            with connection.cursor() as cursor:
                cursor.execute(
                    _COMPUTE_CELLS_SQL,
                    {
                        "ids": [indicator_id],
                        "now": timezone.now(),
                        "cell_indicators": [cell[0] for cell in taken],
                        "cell_municipalities": [cell[1] for cell in taken],
                        "cell_categories": [cell[2] for cell in taken],
                        "cell_options": [cell[3] for cell in taken],
                    },
                )
                desired, changed, removed = cursor.fetchone()
        IndicatorRollupState.objects.filter(indicator_id=indicator_id).update(computed_at=timezone.now())
    return RecomputeSummary.of_transaction(
        indicators=1, desired=desired, changed=changed, removed=removed, started=started
    )


def _take_cell_requests(ids: list[int]) -> list[tuple[int, int, str, str]]:
    """Delete and return the indicators' cell requests (distinct), in one statement."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "WITH taken AS (DELETE FROM indicators_rollupcellrequest WHERE indicator_id = ANY(%s) "
                "RETURNING indicator_id, municipality_id, disaggregation_category, disaggregation_option) "
                "SELECT DISTINCT * FROM taken",
                [ids],
            )
            return cursor.fetchall()
    taken = list(
        RollupCellRequest.objects.filter(indicator_id__in=ids)
        .values_list("indicator_id", "municipality_id", "disaggregation_category", "disaggregation_option")
        .distinct()
    )
    RollupCellRequest.objects.filter(indicator_id__in=ids).delete()
    return taken


def rebuild_indicators(indicator_ids: Iterable[int]) -> RecomputeSummary:
    """Whole indicators, the bulk way (PostgreSQL): what `recompute_indicators` does, same rows.

    One transaction under the same advisory locks. When nothing is stored yet for these
    indicators, computes and inserts every row with one plain `INSERT ... SELECT`; otherwise
    computes them into a temporary table and compares with the stored rows in one hashed `EXCEPT`,
    writing only what differs (the nightly reconcile: nothing). Neither probes the unique index
    once per unchanged row, as `ON CONFLICT` over every row would. `rows_corrected` counts rows
    inserted, changed or deleted, as in `recompute_indicators`. Elsewhere (SQLite) it is
    `recompute_indicators`.
    """
    ids = sorted({int(indicator_id) for indicator_id in indicator_ids})
    if connection.vendor != "postgresql":
        return recompute_indicators(ids)
    if not ids:
        return RecomputeSummary()
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        versions = _lock_and_read_versions(ids)
        _take_cell_requests(ids)
        with connection.cursor() as cursor:
            # Stable until commit: every writer of these indicators' rollups holds their locks.
            # Asked as the first row in the ids' range, which PostgreSQL always reads from the
            # index; "any row for these ids" it planned, in a profiled first build, as a table scan
            # expecting an early match, and on a first build there is none. A row of another indicator in the range only
            # sends the chunk down the compare path, which is correct for any state.
            cursor.execute(
                "SELECT min(indicator_id) IS NOT NULL FROM indicators_rollup WHERE indicator_id BETWEEN %s AND %s",
                [ids[0], ids[-1]],
            )
            if cursor.fetchone()[0]:
                cursor.execute(_BUILD_FRESH_SQL, {"ids": ids})
                cursor.execute("ANALYZE rollup_fresh")  # so that the EXCEPT is planned as a hash
                cursor.execute(_WRITE_FRESH_SQL, {"ids": ids, "now": now})
                desired, changed, removed = cursor.fetchone()
                cursor.execute("DROP TABLE rollup_fresh")
            else:
                cursor.execute(_INSERT_DESIRED_SQL, {"ids": ids, "now": now})
                desired, changed, removed = cursor.rowcount, cursor.rowcount, 0
        _mark_computed(ids, versions)
    return RecomputeSummary.of_transaction(
        indicators=len(ids), desired=desired, changed=changed, removed=removed, started=started
    )


def recompute_programme(programme_id: int) -> RecomputeSummary:
    """Every indicator of one programme."""
    ids = list(Indicator.objects.filter(programme_id=programme_id).values_list("id", flat=True))
    return recompute_in_chunks(ids)


def recompute_all(
    *, progress: Callable[[int], None] | None = None, chunk: int | None = None, jobs: int = 1
) -> RecomputeSummary:
    """Every indicator, `chunk` indicators per transaction (bounded locks and memory), after
    removing rollups left by a deleted indicator (counted as corrected rows).

    On PostgreSQL through `rebuild_indicators`, `REBUILD_CHUNK` indicators per transaction unless
    `chunk` says otherwise; elsewhere `recompute_indicators`, `DEFAULT_CHUNK` at a time.
    `progress(n)` is called after each chunk with the number of indicators done in it. `jobs` > 1
    runs chunks on that many database connections at once (PostgreSQL; commands only — inside a
    test's transaction the other connections would not see its data).
    """
    orphans = remove_orphan_rollups()
    ids = list(Indicator.objects.order_by("id").values_list("id", flat=True))
    if connection.vendor == "postgresql":
        # Split so that every connection has a share of the work (each transaction is one
        # single-threaded compute statement: `jobs` of them keep `jobs` cores busy).
        chunk = chunk or max(1, min(REBUILD_CHUNK, -(-len(ids) // max(1, jobs))))
        summary = recompute_in_chunks(ids, progress=progress, chunk=chunk, jobs=jobs, runner=rebuild_indicators)
    else:
        summary = recompute_in_chunks(ids, progress=progress, chunk=chunk or DEFAULT_CHUNK, jobs=jobs)
    summary.rows_corrected += orphans
    return summary


def recompute_in_chunks(
    ids: Sequence[int],
    *,
    progress: Callable[[int], None] | None = None,
    chunk: int = DEFAULT_CHUNK,
    jobs: int = 1,
    runner: Callable[[list[int]], RecomputeSummary] | None = None,
) -> RecomputeSummary:
    """`runner` (default `recompute_indicators`) over `chunk` indicators at a time."""
    runner = runner or recompute_indicators
    summary = RecomputeSummary()
    ordered = sorted(set(ids))
    parts = [ordered[start : start + chunk] for start in range(0, len(ordered), chunk)]
    started = time.perf_counter()
    if jobs > 1 and connection.vendor == "postgresql":

        def run(part: list[int]) -> RecomputeSummary:
            try:
                return runner(part)
            finally:
                connections.close_all()  # this thread's own connection

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for done in pool.map(run, parts):
                summary.add(done)
                if progress is not None:
                    progress(done.indicators)
        summary.seconds = time.perf_counter() - started
        return summary
    for part in parts:
        summary.add(runner(part))
        if progress is not None:
            progress(len(part))
    return summary


def lock_indicators(ids: Sequence[int]) -> None:
    """Take these indicators' rollup locks until the end of the transaction (PostgreSQL; elsewhere
    there is one writer at a time). Sorted, so two lockers never deadlock."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, id)) FROM unnest(%s::int[]) AS id",
            [ADVISORY_LOCK_CLASS, sorted(ids)],
        )


def remove_orphan_rollups() -> int:
    """Delete rollup rows whose indicator no longer exists; returns how many (normally 0)."""
    deleted, _ = Rollup.objects.exclude(indicator_id__in=Indicator.objects.values("id")).delete()
    return deleted


def _lock_and_read_versions(ids: list[int]) -> dict[int, int]:
    """Take the indicators' advisory locks (sorted, so never a deadlock), then read the versions.

    The version read is its own statement, so its snapshot is older than the compute's: a write
    committed in between is included in the numbers but not marked computed (harmless: its own
    task recomputes again).
    """
    with connection.cursor() as cursor:
        # Derived data: a crash can lose the last commits, and with them their "computed" marks,
        # so they are simply recomputed. Enough memory to hash and sort a chunk in memory.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute("SET LOCAL work_mem TO '256MB'")
    lock_indicators(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indicator_id, requested_version FROM indicators_indicatorrollupstate WHERE indicator_id = ANY(%s)",
            [ids],
        )
        return dict(cursor.fetchall())


def _compute_and_write_postgresql(ids: list[int]) -> tuple[int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute(_COMPUTE_SQL, {"ids": ids, "now": timezone.now()})
        desired, changed, removed = cursor.fetchone()
    return desired, changed, removed


def _mark_computed(ids: list[int], versions: dict[int, int]) -> None:
    """Record what was computed. Rows that a writer holds locked are left for its own task."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH seen AS (
                    SELECT * FROM unnest(%(ids)s::bigint[], %(versions)s::bigint[]) AS s(indicator_id, version)
                ),
                inserted AS (
                    INSERT INTO indicators_indicatorrollupstate
                        (indicator_id, requested_version, computed_version, computed_at)
                    SELECT seen.indicator_id, 0, 0, %(now)s FROM seen
                    JOIN indicators_indicator i ON i.id = seen.indicator_id
                    ON CONFLICT (indicator_id) DO NOTHING
                ),
                lockable AS (
                    SELECT st.indicator_id FROM indicators_indicatorrollupstate st
                    WHERE st.indicator_id = ANY(%(ids)s) FOR UPDATE SKIP LOCKED
                )
                UPDATE indicators_indicatorrollupstate st
                SET computed_version = GREATEST(st.computed_version, seen.version),
                    computed_at = %(now)s,
                    dirty_since = CASE WHEN st.requested_version <= seen.version THEN NULL ELSE st.dirty_since END
                FROM seen
                WHERE st.indicator_id = seen.indicator_id AND st.indicator_id IN (SELECT indicator_id FROM lockable)
                """,
                {"ids": ids, "versions": [versions.get(i, 0) for i in ids], "now": now},
            )
        return
    existing = set(IndicatorRollupState.objects.filter(indicator_id__in=ids).values_list("indicator_id", flat=True))
    live = set(Indicator.objects.filter(id__in=ids).values_list("id", flat=True))
    IndicatorRollupState.objects.bulk_create(
        [IndicatorRollupState(indicator_id=i, computed_at=now) for i in sorted(live - existing)]
    )
    states = list(IndicatorRollupState.objects.filter(indicator_id__in=ids))
    for state in states:
        seen = versions.get(state.indicator_id, 0)
        state.computed_version = max(state.computed_version, seen)
        state.computed_at = now
        if state.requested_version <= seen:
            state.dirty_since = None
    IndicatorRollupState.objects.bulk_update(states, ["computed_version", "computed_at", "dirty_since"])


# --- the portable path (SQLite demo): the pure rules over one read per table -----------------

_ROLLUP_KEY_FIELDS = (
    "scope",
    "scope_id",
    "period_start",
    "period_end",
    "disaggregation_category",
    "disaggregation_option",
)


def desired_cells(ids: Sequence[int]) -> dict[int, list[rollup_math.RollupCell]]:
    """The rollup rows the pure rules give for these indicators, read in a fixed number of queries."""
    indicators = list(
        Indicator.objects.filter(id__in=ids).values(
            "id", "programme_id", "measure", "time_aggregation", "direction", "lop_target"
        )
    )
    results: dict[int, list[rollup_math.ResultRow]] = defaultdict(list)
    for row in Result.objects.filter(indicator_id__in=ids, status=Result.Status.APPROVED).values_list(
        "indicator_id",
        "municipality_id",
        "period_start",
        "period_end",
        "value",
        "numerator",
        "denominator",
        "disaggregation_category",
        "disaggregation_option",
    ):
        results[row[0]].append(rollup_math.ResultRow(*row[1:]))
    targets: dict[int, list[rollup_math.TargetRow]] = defaultdict(list)
    for row in Target.objects.filter(indicator_id__in=ids).values_list(
        "indicator_id", "municipality_id", "period_start", "period_end", "value"
    ):
        targets[row[0]].append(rollup_math.TargetRow(*row[1:]))
    programme_ids = {indicator["programme_id"] for indicator in indicators}
    members: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for programme_id, twinning_id in Twinning.objects.filter(programme_id__in=programme_ids).values_list(
        "programme_id", "id"
    ):
        members[programme_id][twinning_id]
    for twinning_id, programme_id, municipality_id in Twinning.municipalities.through.objects.filter(
        twinning__programme_id__in=programme_ids
    ).values_list("twinning_id", "twinning__programme_id", "organisation_id"):
        members[programme_id][twinning_id].add(municipality_id)
    cells: dict[int, list[rollup_math.RollupCell]] = {}
    for indicator in indicators:
        spec = rollup_math.IndicatorSpec(
            id=indicator["id"],
            programme_id=indicator["programme_id"],
            measure=indicator["measure"],
            time_aggregation=indicator["time_aggregation"],
            direction=indicator["direction"],
            lop_target=indicator["lop_target"],
        )
        cells[spec.id] = rollup_math.rollup_indicator(
            spec, results[spec.id], targets[spec.id], members[spec.programme_id]
        )
    return cells


def _compute_and_write_python(ids: list[int]) -> tuple[int, int, int]:
    now = timezone.now()
    wanted: dict[tuple, rollup_math.RollupCell] = {}
    for indicator_id, cells in desired_cells(ids).items():
        for cell in cells:
            wanted[(indicator_id, *cell.key)] = cell
    existing = {
        (row.indicator_id, *(getattr(row, f) for f in _ROLLUP_KEY_FIELDS)): row
        for row in Rollup.objects.filter(indicator_id__in=ids)
    }
    to_create, to_update = [], []
    for key, cell in wanted.items():
        row = existing.get(key)
        values = (cell.actual, cell.target, cell.percent_of_target, cell.status)
        if row is None:
            to_create.append(
                Rollup(
                    indicator_id=key[0],
                    scope=cell.scope,
                    scope_id=cell.scope_id,
                    period_start=cell.period_start,
                    period_end=cell.period_end,
                    disaggregation_category=cell.category,
                    disaggregation_option=cell.option,
                    actual=cell.actual,
                    target=cell.target,
                    percent_of_target=cell.percent_of_target,
                    status=cell.status,
                    computed_at=now,
                )
            )
        elif (row.actual, row.target, row.percent_of_target, row.status) != values:
            row.actual, row.target, row.percent_of_target, row.status = values
            row.computed_at = now
            to_update.append(row)
    stale = [row.pk for key, row in existing.items() if key not in wanted]
    Rollup.objects.bulk_create(to_create, batch_size=500)
    Rollup.objects.bulk_update(
        to_update, ["actual", "target", "percent_of_target", "status", "computed_at"], batch_size=500
    )
    Rollup.objects.filter(pk__in=stale).delete()
    return len(wanted), len(to_create) + len(to_update), len(stale)
