"""The rollup engine: recomputes stored rollups from approved results and targets (docs/design.md §4).

On PostgreSQL one SQL statement computes every rollup cell of a set of indicators (all scopes,
periods, LoP rows and disaggregations), compares them with the stored rows in one hashed
`EXCEPT`, upserts those that are new or differ (`INSERT ... ON CONFLICT ... DO UPDATE`) and deletes
the rows that no longer apply. The cell variant (`recompute_requested_cells`) restricts all of
that to the groups a few changed results feed. The number of queries per call is fixed (session
settings, advisory lock, version read, taking cell requests, compute+write, state update)
whatever the number of municipalities, periods or rows (tests/rollups/test_engine_queries.py).
The statements are assembled from named parts, one function per CTE (see "the statements" below).

Every write for an indicator happens under `pg_advisory_xact_lock(LockClass.INDICATOR_ROLLUPS, id)`, so
two workers never interleave writes for one indicator; everything is one transaction, so a worker
killed midway leaves the previous rows intact. `work_mem` is raised to 256 MB for the transaction
(chunks of 50 indicators sort and hash in memory); lower `DEFAULT_CHUNK` on a small server.

On SQLite (the embedded demo only) the same rules run in Python through `rollup_math`, over one
read per table, and the differences are written in bulk: SQLite has no exact decimal arithmetic,
so computing there in SQL would give float-rounded numbers.

The arithmetic conventions (divisions to 20 places, 6-place actuals and targets, 2-place
percentages, statuses on the stored percentage) are those of `rollup_math`; the SQL mirrors them
so that the two agree value for value (tested in tests/rollups/test_engine_matches_math.py).

Entry points: `recompute_indicators`, `recompute_requested_cells` (the fast path after single
result changes), `recompute_programme`, `recompute_all`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import cache

from django.db import connection, connections, transaction
from django.utils import timezone

from common.locks import LockClass
from common.sql import quoted, quoted_names
from indicators.models import Indicator, Result, Target
from projects.models import Twinning
from rollups import rollup_math
from rollups.models import IndicatorRollupState, Rollup, RollupCellRequest

# The advisory-lock class of one indicator's rollups (common.locks); the id is the indicator's.
ADVISORY_LOCK_CLASS = int(LockClass.INDICATOR_ROLLUPS)
DEFAULT_CHUNK = 50
# Indicators per rebuild transaction: small enough that a chunk's sorts and hashes stay within
# work_mem (a national-scale indicator has about 10,000 rollup rows) and that `jobs` connections
# share the work evenly (docs/performance.md, "Rollups, round 3").
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


# --- the statements (PostgreSQL), assembled from named parts -----------------------------------
#
# Each part below is one CTE: a function returning its SQL text, whose docstring says what it
# computes and why it has that shape. The statements at the end of this section list the parts
# they are made of; a part only reads the parts listed before it. Tables and columns come from
# the models (`common.sql.quoted_names`); the parts that read a table give its columns the short
# names (`indicator_id`, `cat`, `opt`, ...) that the rest of the statement uses. What each shape
# cost or saved when it was chosen is in docs/performance.md ("Rollups", rounds 3 and 4).
#
# Parameters: %(ids)s, the indicators; %(now)s, the `computed_at` of written rows; %(as_of)s, the
# date of the LoP rows' progress to date (today, `timezone.localdate()`); and for the cell
# recompute %(cell_indicators)s, %(cell_municipalities)s, %(cell_categories)s and
# %(cell_options)s, the (indicator, municipality, disaggregation) cells whose results changed.

# The columns of `desired`, in the order of the rollup table's insert column list.
_DESIRED_COLUMNS = (
    "indicator_id, scope, scope_id, period_start, period_end, cat, opt, actual, target, pct, status, "
    "target_to_date, pct_to_date, status_to_date"
)
# The rebuild's computed rows, until they are compared and written (`rebuild_indicators`).
_FRESH_TABLE = "rollup_fresh"


def _div(dividend: str, divisor: str) -> str:
    """SQL for rollup_math.divide: carried to 30 places by PostgreSQL, rounded half-up to 20."""
    return f"round(({dividend})::numeric(65, 30) / ({divisor}), {rollup_math.DIVISION_PLACES})"


def _percent_sql(actual: str, target: str, direction: str) -> str:
    """SQL for a percent of target rounded as stored (docs/design.md §4): 100 × actual / target
    (`increase`) or 100 × target / actual (`decrease`), undefined when a side is undefined or the
    divisor is 0."""
    return f"""round(CASE
               WHEN {actual} IS NULL OR {target} IS NULL THEN NULL
               WHEN {direction} = 'increase' THEN
                   CASE WHEN {target} = 0 THEN NULL ELSE {_div(f"100 * {actual}", target)} END
               ELSE CASE WHEN {actual} = 0 THEN NULL ELSE {_div(f"100 * {target}", actual)} END
           END, {rollup_math.PERCENT_PLACES})"""


def _status_sql(actual: str, target: str, pct: str) -> str:
    """SQL for `rollup_math.rollup_status`: decided on the stored (rounded) percentage, so a row
    shown as 85.00 % is on track (docs/rollups.md §2, readings 8 and 9)."""
    return f"""CASE WHEN {actual} IS NULL THEN 'no_data'
                WHEN {target} IS NULL OR {target} = 0 THEN 'no_target'
                WHEN {pct} IS NULL THEN 'above'
                WHEN {pct} < {rollup_math.BELOW_THRESHOLD} THEN 'below'
                WHEN {pct} > {rollup_math.ABOVE_THRESHOLD} THEN 'above'
                ELSE 'on_track'
           END"""


def _latest_sql(value: str, *, where: str = "") -> str:
    """SQL aggregate: `value` at the last period (by start, then end, as `rollup_math` orders them)
    that has one (and meets `where`, an `AND ...`). That is the greatest [start, end, value] triple
    in days since year 1, as numeric arrays compare element by element: one hashed pass, no sort."""
    return (
        "(max(ARRAY[(period_start - DATE '0001-01-01')::numeric, (period_end - DATE '0001-01-01')::numeric, "
        f"{value}]) FILTER (WHERE {value} IS NOT NULL {where}))[3]"
    )


def _to_date_aggregates() -> str:
    """SQL aggregates over the period rows of a series (`period_start`, `period_end`, `actual` (the
    running total for `cumulative`), `target`), for progress to date as of %(as_of)s (docs/design.md
    §4, `rollup_math.progress_to_date`): over the periods ended by then (last day on or before it),
    values as stored (6 places), the sums and the last values; `_to_date_values` picks by time
    aggregation."""
    ended = "AND period_end <= %(as_of)s"
    target, actual = (f"round({column}, {rollup_math.VALUE_PLACES})" for column in ("target", "actual"))
    return f"""sum({target}) FILTER (WHERE period_end <= %(as_of)s) AS sum_target_to_date,
           {_latest_sql(target, where=ended)} AS last_target_to_date,
           sum({actual}) FILTER (WHERE period_end <= %(as_of)s) AS sum_actual_to_date,
           {_latest_sql(actual, where=ended)} AS last_actual_to_date"""


def _to_date_values(series: str, agg: str) -> str:
    """SQL select items: a series' target and actual to date from its `_to_date_aggregates`: the sums
    for `sum`; for `cumulative` and `latest` the last values (a cumulative actual is the running
    total, so its last value is the sum over the ended periods)."""
    return f"""CASE WHEN {agg} = 'sum' THEN {series}.sum_target_to_date ELSE {series}.last_target_to_date END
               AS target_to_date,
           CASE WHEN {agg} = 'sum' THEN {series}.sum_actual_to_date ELSE {series}.last_actual_to_date END
               AS actual_to_date"""


def _status_to_date_sql(actual: str, target: str, pct: str) -> str:
    """SQL for the status to date: no ended period with a target is `no_target`, whatever the data;
    otherwise the status of any row (`_status_sql`)."""
    return f"CASE WHEN {target} IS NULL THEN 'no_target' ELSE {_status_sql(actual, target, pct)} END"


def _indicators_cte() -> str:
    """`ind`: the indicators %(ids)s, with `agg`, the time aggregation the rules apply: a percentage
    or a score always behaves as `latest` (docs/design.md §4), so no later part asks the measure."""
    indicator = quoted_names(Indicator)
    return f"""ind AS (
    SELECT {indicator.id} AS id, {indicator.programme} AS programme_id, {indicator.measure} AS measure,
           {indicator.direction} AS direction, {indicator.lop_target} AS lop_target,
           CASE WHEN {indicator.measure} = 'number' THEN {indicator.time_aggregation} ELSE 'latest' END AS agg
    FROM {indicator.table}
    WHERE {indicator.id} = ANY(%(ids)s)
)"""


def _requested_cells_cte() -> str:
    """`cells_in`: the changed cells (cell recompute only), one row per (indicator, municipality,
    disaggregation), from four parallel arrays: one parameter each, whatever their number."""
    return """cells_in AS (
    SELECT * FROM unnest(%(cell_indicators)s::bigint[], %(cell_municipalities)s::bigint[],
                         %(cell_categories)s::varchar[], %(cell_options)s::varchar[])
        AS c(indicator_id, municipality_id, cat, opt)
)"""


def _counted_results_cte(*, restriction: str = "") -> str:
    """`res`: the results that count (docs/design.md §4): approved ones, and for a percentage
    indicator only those with a numerator and a denominator, the two numbers that are pooled
    (docs/rollups.md §2, reading 2). The disaggregation is taken in the "C" collation (byte order),
    the cheapest for the many sorts and hashes that group by it. `restriction`: an `AND ...` on
    the result row `r`."""
    result = quoted_names(Result)
    return f"""res AS (
    SELECT r.{result.indicator} AS indicator_id, r.{result.municipality} AS municipality_id,
           r.{result.period_start} AS period_start, r.{result.period_end} AS period_end,
           r.{result.disaggregation_category} COLLATE "C" AS cat, r.{result.disaggregation_option} COLLATE "C" AS opt,
           r.{result.value} AS value, r.{result.numerator} AS numerator, r.{result.denominator} AS denominator
    FROM {result.table} r
    JOIN ind ON ind.id = r.{result.indicator}
    WHERE r.{result.status} = 'approved'
      AND (ind.measure <> 'percentage' OR (r.{result.numerator} IS NOT NULL AND r.{result.denominator} IS NOT NULL))
      {restriction}
)"""


def _results_of_requested_disaggregations() -> str:
    """Restricts `res` to the disaggregations of the changed cells: every group the cell recompute
    rewrites is one of them, and a group needs every municipality's results in it."""
    result = quoted_names(Result)
    return (
        f"AND (r.{result.indicator}, r.{result.disaggregation_category}, r.{result.disaggregation_option}) IN "
        "(SELECT indicator_id, cat, opt FROM cells_in)"
    )


def _members_cte() -> str:
    """`members`: each twinning of the indicators' programmes with its *current* municipalities
    (a municipality that left no longer counts for the twinning, docs/rollups.md §2, reading 7)."""
    twinning = quoted_names(Twinning)
    municipalities = Twinning._meta.get_field("municipalities")
    membership = quoted(municipalities.m2m_db_table())
    of_twinning, of_municipality = quoted(municipalities.m2m_column_name()), quoted(municipalities.m2m_reverse_name())
    return f"""members AS (
    SELECT ind.id AS indicator_id, tm.{of_twinning} AS twinning_id, tm.{of_municipality} AS municipality_id
    FROM ind
    JOIN {twinning.table} t ON t.{twinning.programme} = ind.programme_id
    JOIN {membership} tm ON tm.{of_twinning} = t.{twinning.id}
)"""


def _requested_groups_cte() -> str:
    """`groups`: the rollup groups (indicator, scope, disaggregation) that the changed cells feed:
    the cell's municipality, each twinning it is a current member of, and the programme."""
    return """groups AS (
    SELECT indicator_id, 'municipality'::varchar AS scope, municipality_id AS scope_id, cat, opt FROM cells_in
    UNION
    SELECT c.indicator_id, 'twinning', m.twinning_id, c.cat, c.opt
    FROM cells_in c JOIN members m ON m.indicator_id = c.indicator_id AND m.municipality_id = c.municipality_id
    UNION
    SELECT c.indicator_id, 'programme', ind.programme_id, c.cat, c.opt
    FROM cells_in c JOIN ind ON ind.id = c.indicator_id
)"""


def _all_parts_cte(*, municipality_restriction: str = "") -> str:
    """`all_parts`: per scope, period and disaggregation, the pieces A(p, S) is made of (docs/design.md
    §4): the sum of values `s`, their number `n`, and the sums of numerators and denominators. A
    municipality is one result, restated as is; a twinning sums its current members; the programme
    sums every counted result, including those of a municipality that has left its twinning.
    `municipality_restriction`: a `WHERE ...` on the municipality rows."""
    return f"""all_parts AS (
    SELECT indicator_id, 'municipality'::varchar COLLATE "C" AS scope, municipality_id AS scope_id,
           period_start, period_end, cat, opt,
           value AS s, 1::bigint AS n, numerator AS num, denominator AS den
    FROM res {municipality_restriction}
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
)"""


def _of_requested_cells() -> str:
    """Restricts the municipality rows of `all_parts` to the changed cells themselves."""
    return (
        "WHERE (indicator_id, municipality_id, cat, opt) IN "
        "(SELECT indicator_id, municipality_id, cat, opt FROM cells_in)"
    )


def _parts_cte(*, restriction: str = "") -> str:
    """`parts`: the `all_parts` that are computed; `restriction` (a `WHERE ...`) keeps only some
    groups. Its own name, so that every later part reads the same rows whichever statement."""
    return f"""parts AS (
    SELECT * FROM all_parts {restriction}
)"""


def _of_requested_groups() -> str:
    """Restricts a part's rows to the groups the changed cells feed."""
    return (
        "WHERE (indicator_id, scope, scope_id, cat, opt) IN "
        "(SELECT indicator_id, scope, scope_id, cat, opt FROM groups)"
    )


def _period_values_cte() -> str:
    """`vals`: A(p, S) of each part: the sum (`number`), 100 × Σ numerators / Σ denominators
    (`percentage`, never a mean of percentages) or the mean (`score`), divided as `rollup_math`
    divides. Not materialised: it is read twice, for totals and for disaggregations, and each
    read's filter on `cat` then reaches down into the aggregation, which costs less than storing
    every row once."""
    return f"""vals AS NOT MATERIALIZED (
    SELECT p.indicator_id, p.scope, p.scope_id, p.period_start, p.period_end, p.cat, p.opt,
           CASE ind.measure
               WHEN 'number' THEN p.s
               WHEN 'percentage' THEN {_div("100 * p.num", "p.den")}
               ELSE {_div("p.s", "p.n")}
           END AS a
    FROM parts p
    JOIN ind ON ind.id = p.indicator_id
)"""


def _all_targets_cte() -> str:
    """`all_tgt`: the period target of each scope (docs/design.md §4): a municipality's own; a
    twinning's from its current members' targets (sum for a number, mean otherwise); the
    programme's own programme-wide target if set, otherwise the same from every municipality
    target (docs/rollups.md §2, reading 6). Targets are set on totals only."""
    target = quoted_names(Target)
    return f"""all_tgt AS (
    SELECT t.{target.indicator} AS indicator_id, 'municipality'::varchar COLLATE "C" AS scope,
           t.{target.municipality} AS scope_id,
           t.{target.period_start} AS period_start, t.{target.period_end} AS period_end, t.{target.value} AS target
    FROM {target.table} t
    JOIN ind ON ind.id = t.{target.indicator}
    WHERE t.{target.municipality} IS NOT NULL
    UNION ALL
    SELECT t.{target.indicator}, 'twinning', m.twinning_id, t.{target.period_start}, t.{target.period_end},
           CASE WHEN ind.measure = 'number' THEN sum(t.{target.value})
                ELSE {_div(f"sum(t.{target.value})", "count(*)")} END
    FROM {target.table} t
    JOIN ind ON ind.id = t.{target.indicator}
    JOIN members m ON m.indicator_id = t.{target.indicator} AND m.municipality_id = t.{target.municipality}
    GROUP BY t.{target.indicator}, m.twinning_id, t.{target.period_start}, t.{target.period_end}, ind.measure
    UNION ALL
    SELECT t.{target.indicator}, 'programme', ind.programme_id, t.{target.period_start}, t.{target.period_end},
           COALESCE(
               max(t.{target.value}) FILTER (WHERE t.{target.municipality} IS NULL),
               CASE WHEN ind.measure = 'number'
                    THEN sum(t.{target.value}) FILTER (WHERE t.{target.municipality} IS NOT NULL)
                    ELSE {
        _div(
            f"sum(t.{target.value}) FILTER (WHERE t.{target.municipality} IS NOT NULL)",
            f"nullif(count(*) FILTER (WHERE t.{target.municipality} IS NOT NULL), 0)",
        )
    }
               END)
    FROM {target.table} t
    JOIN ind ON ind.id = t.{target.indicator}
    GROUP BY t.{target.indicator}, ind.programme_id, t.{target.period_start}, t.{target.period_end}, ind.measure
)"""


def _targets_cte(*, restriction: str = "") -> str:
    """`tgt`: the `all_tgt` that are computed; `restriction` (a `WHERE ...`) keeps only some groups."""
    return f"""tgt AS (
    SELECT * FROM all_tgt {restriction}
)"""


def _of_requested_total_groups() -> str:
    """Restricts targets to the groups the changed cells feed; targets exist on totals only."""
    return "WHERE (indicator_id, scope, scope_id) IN (SELECT indicator_id, scope, scope_id FROM groups WHERE cat = '')"


def _cells_cte() -> str:
    """`cells`: one row per scope, period and disaggregation that has a value or a target (docs/rollups.md
    §2, reading 4). Totals meet their targets in a full join (a period with a target and no data has a
    row); disaggregated rows have no target (reading 5)."""
    return """cells AS (
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
)"""


def _periodic_cte() -> str:
    """`periodic`: each cell's period actual. Only a cumulative indicator needs its series in order
    (a running total, carried over periods without data: docs/rollups.md §2, reading 3), so only
    its cells go through a window; every other period is its own cell, with no sort at all.
    Periods that share a start are ordered by their end, as `rollup_math` orders them. Period rows
    have no progress to date (the LoP rows of `lop` do)."""
    return """periodic AS (
    SELECT c.indicator_id, c.scope, c.scope_id, c.period_start, c.period_end, c.cat, c.opt,
           c.a AS actual, c.target, NULL::numeric AS target_to_date, NULL::numeric AS actual_to_date
    FROM cells c
    JOIN ind ON ind.id = c.indicator_id
    WHERE ind.agg <> 'cumulative'
    UNION ALL
    SELECT c.indicator_id, c.scope, c.scope_id, c.period_start, c.period_end, c.cat, c.opt,
           sum(c.a) OVER (PARTITION BY c.indicator_id, c.scope, c.scope_id, c.cat, c.opt
                          ORDER BY c.period_start, c.period_end ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           c.target, NULL, NULL
    FROM cells c
    JOIN ind ON ind.id = c.indicator_id
    WHERE ind.agg = 'cumulative'
)"""


def _series_cte() -> str:
    """`series`: every LoP value of a series (scope and disaggregation) in one hashed pass over its
    period rows, with no sort: the totals, "latest", the value of the last period that has one
    (`_latest_sql`; for `cumulative` the running total there, which is the total), and the values of
    its progress to date (`_to_date_aggregates`). In the same pass, so that no join attaches the
    progress to date to its LoP row afterwards (the planner cannot estimate such a join over CTEs)."""
    return f"""series AS (
    SELECT indicator_id, scope, scope_id, cat, opt,
           sum(actual) AS total_a,
           sum(target) AS total_target,
           {_latest_sql("actual")} AS latest_a,
           {_latest_sql("target")} AS latest_target,
           {_to_date_aggregates()}
    FROM periodic
    GROUP BY indicator_id, scope, scope_id, cat, opt
)"""


def _lop_cte(*, programme_total_restriction: str = "") -> str:
    """`lop`: the life-of-programme row of each series (docs/design.md §4): the total actual for
    `sum`, the latest otherwise (for `cumulative` the last running total); the programme total's
    target is `lop_target` if set, else the sum of the period targets (`sum`) or the last one; and
    the target and actual to date (`_to_date_values`). Every indicator also gets its programme
    total row when it has no cell at all, so it always has a row (docs/rollups.md §2, reading 4).
    `programme_total_restriction`: an `AND ...` on whether that row is wanted."""
    return f"""lop AS (
    SELECT s.indicator_id, s.scope, s.scope_id, NULL::date AS period_start, NULL::date AS period_end, s.cat, s.opt,
           CASE WHEN ind.agg = 'sum' THEN s.total_a ELSE s.latest_a END AS actual,
           CASE WHEN s.scope = 'programme' AND s.cat = '' AND ind.lop_target IS NOT NULL THEN ind.lop_target
                WHEN ind.agg = 'sum' THEN s.total_target
                ELSE s.latest_target
           END AS target,
           {_to_date_values("s", "ind.agg")}
    FROM series s
    JOIN ind ON ind.id = s.indicator_id
    UNION ALL
    SELECT ind.id, 'programme', ind.programme_id, NULL, NULL, '', '', NULL, ind.lop_target, NULL, NULL
    FROM ind
    WHERE TRUE {programme_total_restriction}
      AND ind.id NOT IN (SELECT c.indicator_id FROM cells c WHERE c.scope = 'programme' AND c.cat = '')
)"""


def _programme_total_requested() -> str:
    """Restricts the programme total row of an indicator without cells to a recompute of that group."""
    return (
        "AND (ind.id, ind.programme_id) IN (SELECT indicator_id, scope_id FROM groups "
        "WHERE scope = 'programme' AND cat = '')"
    )


def _judged_cte() -> str:
    """`judged`: period and LoP rows with their percentage of target, rounded as stored
    (docs/design.md §4): 100 × actual / target (`increase`) or 100 × target / actual (`decrease`),
    undefined when a side is undefined or the divisor is 0; LoP rows also to date."""
    return f"""judged AS (
    SELECT x.*,
           {_percent_sql("x.actual", "x.target", "ind.direction")} AS pct,
           {_percent_sql("x.actual_to_date", "x.target_to_date", "ind.direction")} AS pct_to_date
    FROM (SELECT * FROM periodic UNION ALL SELECT * FROM lop) x
    JOIN ind ON ind.id = x.indicator_id
)"""


def _desired_cte() -> str:
    """`desired`: the rows as they must be stored: values rounded to the stored places, and the
    status decided on the stored percentage, so a row shown as 85.00 % is on track (docs/rollups.md
    §2, readings 8 and 9). LoP rows carry their progress to date (`no_target` when no period of the
    series with a target has ended); period rows none."""
    return f"""desired AS (
    SELECT indicator_id, scope, scope_id, period_start, period_end, cat, opt,
           round(actual, {rollup_math.VALUE_PLACES}) AS actual,
           round(target, {rollup_math.VALUE_PLACES}) AS target,
           pct,
           {_status_sql("actual", "target", "pct")} AS status,
           target_to_date,
           pct_to_date,
           CASE WHEN period_start IS NULL
                THEN {_status_to_date_sql("actual_to_date", "target_to_date", "pct_to_date")}
           END AS status_to_date
    FROM judged
)"""


def _fresh_desired_cte() -> str:
    """`desired`, read back from the rebuild's temporary table of computed rows."""
    return f"desired AS (SELECT {_DESIRED_COLUMNS} FROM {_FRESH_TABLE})"


def _existing_cte() -> str:
    """`existing`: the stored rows of the indicators, in `desired`'s columns, to compare with."""
    rollup = quoted_names(Rollup)
    return f"""existing AS (
    SELECT r.{rollup.indicator} AS indicator_id, r.{rollup.scope} AS scope, r.{rollup.scope_id} AS scope_id,
           r.{rollup.period_start} AS period_start, r.{rollup.period_end} AS period_end,
           r.{rollup.disaggregation_category} AS cat, r.{rollup.disaggregation_option} AS opt,
           r.{rollup.actual} AS actual, r.{rollup.target} AS target, r.{rollup.percent_of_target} AS pct,
           r.{rollup.status} AS status, r.{rollup.target_to_date} AS target_to_date,
           r.{rollup.percent_to_date} AS pct_to_date, r.{rollup.status_to_date} AS status_to_date
    FROM {rollup.table} r
    WHERE r.{rollup.indicator} = ANY(%(ids)s)
)"""


def _changed_cte() -> str:
    """`changed`: the desired rows that are new or differ from the stored ones. Comparing everything
    in one hashed set operation is much cheaper, for whole indicators, than letting `ON CONFLICT`
    probe the unique index once per unchanged row; only these rows are then written."""
    return f"""changed AS (
    SELECT {_DESIRED_COLUMNS}
    FROM desired
    EXCEPT
    SELECT {_DESIRED_COLUMNS}
    FROM existing
)"""


def _rollup_insert_columns() -> str:
    """The rollup table's columns in the order of `_DESIRED_COLUMNS`, then `computed_at` and `as_of`."""
    rollup = quoted_names(Rollup)
    return (
        f"({rollup.indicator}, {rollup.scope}, {rollup.scope_id}, {rollup.period_start}, {rollup.period_end}, "
        f"{rollup.disaggregation_category},\n     {rollup.disaggregation_option}, {rollup.actual}, {rollup.target}, "
        f"{rollup.percent_of_target}, {rollup.status}, {rollup.target_to_date}, {rollup.percent_to_date},\n     "
        f"{rollup.status_to_date}, {rollup.computed_at}, {rollup.as_of})"
    )


def _stored_numbers() -> tuple[str, ...]:
    """The rollup table's columns that a recompute compares and rewrites: the numbers and statuses.
    Not `as_of`: a LoP row whose progress to date did not move keeps the date it was computed as of
    (its numbers are just as true today), so that a recompute never rewrites every LoP row."""
    rollup = quoted_names(Rollup)
    return (
        rollup.actual,
        rollup.target,
        rollup.percent_of_target,
        rollup.status,
        rollup.target_to_date,
        rollup.percent_to_date,
        rollup.status_to_date,
    )


def _unique_columns(constraint_name: str) -> str:
    """The columns of one of the rollup model's unique constraints: the `ON CONFLICT` target that
    the constraint's index answers."""
    rollup = quoted_names(Rollup)
    (constraint,) = [c for c in Rollup._meta.constraints if c.name == constraint_name]
    return ", ".join(getattr(rollup, field) for field in constraint.fields)


def _update_when_different() -> str:
    """An upsert's update: a row whose numbers are unchanged is not rewritten (nor is its `computed_at`
    moved, which says when the numbers last changed)."""
    rollup = quoted_names(Rollup)
    numbers = _stored_numbers()
    written = (*numbers, rollup.computed_at, rollup.as_of)
    return f"""DO UPDATE SET {", ".join(f"{column} = EXCLUDED.{column}" for column in written)}
    WHERE ({", ".join(f"r.{column}" for column in numbers)})
          IS DISTINCT FROM ({", ".join(f"EXCLUDED.{column}" for column in numbers)})"""


def _upsert_periods_cte(*, source: str) -> str:
    """`upsert_periods`: writes the period rows of `source` (`changed`, or for a few cells `desired`)."""
    rollup = quoted_names(Rollup)
    return f"""upsert_periods AS (
    INSERT INTO {rollup.table} AS r
        {_rollup_insert_columns()}
    SELECT {_DESIRED_COLUMNS}, %(now)s, NULL::date
    FROM {source} WHERE period_start IS NOT NULL
    ON CONFLICT ({_unique_columns("rollup_unique_cell")})
    {_update_when_different()}
    RETURNING 1
)"""


def _upsert_lop_cte(*, source: str) -> str:
    """`upsert_lop`: writes the LoP rows of `source`. Apart from the period rows because their NULL
    periods are distinct in the period cells' index: their own partial unique index decides."""
    rollup = quoted_names(Rollup)
    return f"""upsert_lop AS (
    INSERT INTO {rollup.table} AS r
        {_rollup_insert_columns()}
    SELECT indicator_id, scope, scope_id, NULL, NULL, cat, opt, actual, target, pct, status,
           target_to_date, pct_to_date, status_to_date, %(now)s, %(as_of)s::date
    FROM {source} WHERE period_start IS NULL
    ON CONFLICT ({_unique_columns("rollup_unique_lop_cell")}) WHERE {rollup.period_start} IS NULL
    {_update_when_different()}
    RETURNING 1
)"""


def _removed_cte(*, restriction: str = "") -> str:
    """`removed`: deletes the stored rows of the indicators that are no longer desired (a result
    withdrawn, a twinning left). `NOT IN` over a hashed subplan: an anti-join the planner cannot
    turn into a quadratic merge join. `restriction`: an `AND ...` on the stored row `r`."""
    rollup = quoted_names(Rollup)
    return f"""removed AS (
    DELETE FROM {rollup.table} r
    WHERE r.{rollup.indicator} = ANY(%(ids)s) {restriction}
      AND (r.{rollup.indicator}, r.{rollup.scope}, r.{rollup.scope_id},
           COALESCE(r.{rollup.period_start}, DATE '0001-01-01'), COALESCE(r.{rollup.period_end}, DATE '0001-01-01'),
           r.{rollup.disaggregation_category}, r.{rollup.disaggregation_option}) NOT IN (
          SELECT d.indicator_id, d.scope, d.scope_id, COALESCE(d.period_start, DATE '0001-01-01'),
                 COALESCE(d.period_end, DATE '0001-01-01'), d.cat, d.opt
          FROM desired d
      )
    RETURNING 1
)"""


def _rollups_of_requested_groups() -> str:
    """Restricts the stored rows that may be removed to the groups the changed cells feed."""
    rollup = quoted_names(Rollup)
    return (
        f"AND (r.{rollup.indicator}, r.{rollup.scope}, r.{rollup.scope_id}, r.{rollup.disaggregation_category}, "
        f"r.{rollup.disaggregation_option}) IN (SELECT indicator_id, scope, scope_id, cat, opt FROM groups)"
    )


def _counts_select() -> str:
    """The statement's one row: rows desired, rows written (inserted or changed), rows removed."""
    return """SELECT (SELECT count(*) FROM desired),
       (SELECT count(*) FROM upsert_periods) + (SELECT count(*) FROM upsert_lop),
       (SELECT count(*) FROM removed)"""


def _with(*parts: str) -> str:
    """One `WITH` of these parts, in order."""
    return "WITH " + ",\n".join(parts)


def _whole_indicator_rows() -> tuple[str, ...]:
    """The parts that compute every rollup row of the indicators %(ids)s, ending in `desired`."""
    return (
        _indicators_cte(),
        _counted_results_cte(),
        _members_cte(),
        _all_parts_cte(),
        _parts_cte(),
        _period_values_cte(),
        _all_targets_cte(),
        _targets_cte(),
        _cells_cte(),
        _periodic_cte(),
        _series_cte(),
        _lop_cte(),
        _judged_cte(),
        _desired_cte(),
    )


def _write_changes() -> tuple[str, ...]:
    """The parts that make the stored rows of the indicators %(ids)s those of `desired`, writing only
    the rows that are new or differ."""
    return (
        _existing_cte(),
        _changed_cte(),
        _upsert_periods_cte(source="changed"),
        _upsert_lop_cte(source="changed"),
        _removed_cte(),
    )


@cache
def full_recompute_sql() -> str:
    """Whole indicators, computed and written in one statement (`recompute_indicators`)."""
    return "\n".join(
        [
            "/* rollup engine: recompute indicators */",
            _with(*_whole_indicator_rows(), *_write_changes()),
            _counts_select(),
        ]
    )


@cache
def cell_recompute_sql() -> str:
    """Only the rollup groups that depend on the changed cells: the cell's municipality, its current
    twinnings and the programme, for the cell's disaggregation, every period and LoP
    (`recompute_requested_cells`). The parts of the whole-indicator statement, each restricted to
    those groups. A few dozen rows: they are upserted directly (`ON CONFLICT`'s index probes are
    cheapest), with no comparison with the stored rows first."""
    return "\n".join(
        [
            "/* rollup engine: recompute requested cells */",
            _with(
                _indicators_cte(),
                _requested_cells_cte(),
                _counted_results_cte(restriction=_results_of_requested_disaggregations()),
                _members_cte(),
                _requested_groups_cte(),
                _all_parts_cte(municipality_restriction=_of_requested_cells()),
                _parts_cte(restriction=_of_requested_groups()),
                _period_values_cte(),
                _all_targets_cte(),
                _targets_cte(restriction=_of_requested_total_groups()),
                _cells_cte(),
                _periodic_cte(),
                _series_cte(),
                _lop_cte(programme_total_restriction=_programme_total_requested()),
                _judged_cte(),
                _desired_cte(),
                _upsert_periods_cte(source="desired"),
                _upsert_lop_cte(source="desired"),
                _removed_cte(restriction=_rollups_of_requested_groups()),
            ),
            _counts_select(),
        ]
    )


# The rebuild (`rebuild_indicators`) computes the rows of whole indicators in one of two ways.
# Nothing stored yet (a first build, a restore): every row is new, so they go in with one plain
# INSERT of the computed rows. Otherwise (the nightly reconcile) the rows are computed into a
# temporary table, analysed, and compared with the stored ones in one hashed `EXCEPT`, which
# writes only what differs.


@cache
def rebuild_insert_sql() -> str:
    """Every computed row of the indicators inserted as it comes, into a rollup table that holds none
    of theirs. Not sorted into the unique index's order first: that would speed up the insert alone,
    but within this statement the sort costs more than it saves."""
    return "\n".join(
        [
            "/* rollup engine: bulk insert a rebuild */",
            f"INSERT INTO {quoted_names(Rollup).table}\n    {_rollup_insert_columns()}",
            _with(*_whole_indicator_rows()),
            f"SELECT {_DESIRED_COLUMNS}, %(now)s, CASE WHEN period_start IS NULL THEN %(as_of)s::date END FROM desired",
        ]
    )


@cache
def rebuild_compute_sql() -> str:
    """Every computed row of the indicators, into the temporary table that `rebuild_write_sql` reads."""
    return "\n".join(
        [
            "/* rollup engine: compute a rebuild */",
            f"CREATE TEMPORARY TABLE {_FRESH_TABLE} ON COMMIT DROP AS",
            _with(*_whole_indicator_rows()),
            f"SELECT {_DESIRED_COLUMNS} FROM desired",
        ]
    )


@cache
def rebuild_write_sql() -> str:
    """The rows computed by `rebuild_compute_sql`, compared with the stored ones; only what differs
    is written."""
    return "\n".join(
        [
            "/* rollup engine: write a rebuild's changes */",
            _with(_fresh_desired_cte(), *_write_changes()),
            _counts_select(),
        ]
    )


# The daily refresh (`refresh_progress_to_date`): a LoP row's progress to date is computed as of a
# date and stays true until a period of its series ends after that date, with no result changing.
# Then only the to-date columns move, recomputed from the stored period rows of the series.


def _stale_to_date(lop: str) -> str:
    """SQL condition: the LoP row `lop` of the rollup table has progress to date that a period of its
    series, ended since its `as_of` and by %(as_of)s, has made stale (or none yet)."""
    rollup = quoted_names(Rollup)
    same_series = " AND ".join(
        f"p.{column} = {lop}.{column}"
        for column in (
            rollup.indicator,
            rollup.scope_id,
            rollup.scope,
            rollup.disaggregation_category,
            rollup.disaggregation_option,
        )
    )
    return f"""{lop}.{rollup.period_start} IS NULL
      AND ({lop}.{rollup.as_of} IS NULL OR ({lop}.{rollup.as_of} < %(as_of)s AND EXISTS (
          SELECT 1 FROM {rollup.table} p
          WHERE {same_series}
            AND p.{rollup.period_end} > {lop}.{rollup.as_of} AND p.{rollup.period_end} <= %(as_of)s
      )))"""


def stale_to_date_sql() -> str:
    """The indicators with a LoP row whose progress to date is stale as of %(as_of)s."""
    rollup = quoted_names(Rollup)
    return "\n".join(
        [
            "/* rollup engine: indicators with stale progress to date */",
            f"SELECT DISTINCT l.{rollup.indicator} FROM {rollup.table} l",
            f"WHERE {_stale_to_date('l')}",
        ]
    )


def _stale_lop_cte() -> str:
    """`stale`: the LoP rows of the indicators %(ids)s whose progress to date is stale, with the
    values they hold now."""
    rollup = quoted_names(Rollup)
    return f"""stale AS (
    SELECT l.{rollup.id} AS rollup_id, l.{rollup.indicator} AS indicator_id, l.{rollup.scope} AS scope,
           l.{rollup.scope_id} AS scope_id, l.{rollup.disaggregation_category} AS cat,
           l.{rollup.disaggregation_option} AS opt, l.{rollup.target_to_date} AS target_to_date,
           l.{rollup.percent_to_date} AS pct_to_date, l.{rollup.status_to_date} AS status_to_date
    FROM {rollup.table} l
    WHERE l.{rollup.indicator} = ANY(%(ids)s) AND {_stale_to_date("l")}
)"""


def _refreshed_to_date_cte() -> str:
    """`to_date`: each stale LoP row's progress to date as of %(as_of)s, from the stored period rows
    of its series (`_to_date_aggregates` and `_to_date_values`, as the recompute's `series` and `lop`
    compute it), read through the rollup table's unique index, one series at a time: whatever the
    number of stale rows, never a join the planner could misjudge into a quadratic one."""
    rollup = quoted_names(Rollup)
    same_series = " AND ".join(
        f"p.{column} = s.{alias}"
        for column, alias in (
            (rollup.indicator, "indicator_id"),
            (rollup.scope_id, "scope_id"),
            (rollup.scope, "scope"),
            (rollup.disaggregation_category, "cat"),
            (rollup.disaggregation_option, "opt"),
        )
    )
    return f"""to_date AS (
    SELECT v.*, {_percent_sql("v.actual_to_date", "v.target_to_date", "v.direction")} AS pct_to_date
    FROM (
        SELECT s.rollup_id, s.indicator_id, ind.direction, s.target_to_date AS stored_target,
               s.pct_to_date AS stored_pct, s.status_to_date AS stored_status,
               {_to_date_values("a", "ind.agg")}
        FROM stale s
        JOIN ind ON ind.id = s.indicator_id
        CROSS JOIN LATERAL (
            SELECT {_to_date_aggregates()}
            FROM (
                SELECT p.{rollup.period_start} AS period_start, p.{rollup.period_end} AS period_end,
                       p.{rollup.actual} AS actual, p.{rollup.target} AS target
                FROM {rollup.table} p
                WHERE {same_series} AND p.{rollup.period_start} IS NOT NULL
            ) periods
        ) a
    ) v
)"""


def _refreshed_cte() -> str:
    """`refreshed`: the stale LoP rows get their progress to date as of %(as_of)s (`no_target` when
    no period of the series with a target has ended); `computed_at` moves only where a number moved."""
    rollup = quoted_names(Rollup)
    return f"""fresh AS (
    SELECT t.rollup_id, t.indicator_id, t.target_to_date, t.pct_to_date, t.status_to_date,
           (t.stored_target, t.stored_pct, t.stored_status)
               IS DISTINCT FROM (t.target_to_date, t.pct_to_date, t.status_to_date) AS moved
    FROM (
        SELECT d.*, {_status_to_date_sql("d.actual_to_date", "d.target_to_date", "d.pct_to_date")} AS status_to_date
        FROM to_date d
    ) t
),
refreshed AS (
    UPDATE {rollup.table} r
    SET {rollup.target_to_date} = f.target_to_date, {rollup.percent_to_date} = f.pct_to_date,
        {rollup.status_to_date} = f.status_to_date, {rollup.as_of} = %(as_of)s,
        {rollup.computed_at} = CASE WHEN f.moved THEN %(now)s ELSE r.{rollup.computed_at} END
    FROM fresh f
    WHERE r.{rollup.id} = f.rollup_id
    RETURNING f.indicator_id, f.moved
)"""


def _stamped_cte() -> str:
    """`stamped`: the indicators whose numbers moved are marked computed now, which moves the report
    version (`reporting.reports.report_version`), so no cached report keeps the old numbers."""
    state = quoted_names(IndicatorRollupState)
    return f"""stamped AS (
    UPDATE {state.table} SET {state.computed_at} = %(now)s
    WHERE {state.indicator} IN (SELECT indicator_id FROM refreshed WHERE moved)
    RETURNING 1
)"""


@cache
def refresh_to_date_sql() -> str:
    """The progress to date of the stale LoP rows of the indicators %(ids)s, refreshed from their
    series' stored period rows by the recompute's own aggregates: returns the rows refreshed, the
    rows whose numbers moved, and the indicators stamped computed."""
    return "\n".join(
        [
            "/* rollup engine: refresh progress to date */",
            _with(
                _indicators_cte(),
                _stale_lop_cte(),
                _refreshed_to_date_cte(),
                _refreshed_cte(),
                _stamped_cte(),
            ),
            "SELECT count(*), count(*) FILTER (WHERE moved), (SELECT count(*) FROM stamped) FROM refreshed",
        ]
    )


def refresh_progress_to_date(*, as_of: date | None = None) -> int:
    """Bring the progress to date of every LoP row up to `as_of` (default today), where a period of its
    series has ended since it was computed (docs/design.md §4): the daily beat task. Results and
    targets have not moved, so only the to-date columns are recomputed, from the stored period rows,
    in one set-based statement under the indicators' locks. Returns the rows whose numbers moved.
    Idempotent: a second run the same day finds nothing stale.

    Elsewhere (SQLite, the demo) the stale indicators are recomputed whole, and their LoP rows dated.
    """
    as_of = as_of or timezone.localdate()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(stale_to_date_sql(), {"as_of": as_of})
            ids = sorted(row[0] for row in cursor.fetchall())
        if not ids:
            return 0
        if connection.vendor != "postgresql":
            summary = recompute_indicators(ids, as_of=as_of)
            Rollup.objects.filter(indicator_id__in=ids, period_start__isnull=True).update(as_of=as_of)
            return summary.rows_corrected
        lock_indicators(ids)
        with connection.cursor() as cursor:
            # Index lookups, one series at a time: compiling them (JIT) costs more than it saves.
            cursor.execute("SET LOCAL jit TO OFF")
            cursor.execute(refresh_to_date_sql(), {"ids": ids, "as_of": as_of, "now": timezone.now()})
            _refreshed, moved, _stamped = cursor.fetchone()
    return moved


def recompute_indicators(indicator_ids: Iterable[int], *, as_of: date | None = None) -> RecomputeSummary:
    """Bring every rollup row of these indicators up to date from source, in one transaction.

    Idempotent: running it twice, or concurrently, gives the same rows (a per-indicator advisory
    lock serialises concurrent runs on PostgreSQL). Unknown ids are ignored. Marks the indicators
    computed with the request version seen *before* computing (see IndicatorRollupState). LoP rows
    get their progress to date as of `as_of` (default today).
    """
    ids = sorted({int(indicator_id) for indicator_id in indicator_ids})
    if not ids:
        return RecomputeSummary()
    as_of = as_of or timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            versions = _lock_and_read_versions(ids)
            _take_cell_requests(ids)  # covered by this recompute
            desired, changed, removed = _compute_and_write_postgresql(ids, as_of)
        else:
            versions = dict(
                IndicatorRollupState.objects.filter(indicator_id__in=ids).values_list(
                    "indicator_id", "requested_version"
                )
            )
            _take_cell_requests(ids)
            desired, changed, removed = _compute_and_write_python(ids, as_of)
        _mark_computed(ids, versions)
    return RecomputeSummary.of_transaction(
        indicators=len(ids), desired=desired, changed=changed, removed=removed, started=started
    )


def recompute_requested_cells(indicator_id: int, *, as_of: date | None = None) -> RecomputeSummary:
    """Recompute only the rollup groups that depend on the indicator's requested cells.

    Takes (deletes) the indicator's `RollupCellRequest` rows and recomputes, in the same
    transaction and under the indicator's lock, the groups (municipality, its current twinnings,
    the programme) × disaggregation those cells feed. Requests committed meanwhile stay for their
    own task. Does not touch the full-recompute versions. Returns an empty summary when there
    was nothing to take (a duplicate delivery). Progress to date as of `as_of` (default today).
    """
    as_of = as_of or timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor != "postgresql":
            taken = _take_cell_requests([indicator_id])
            if not taken:
                return RecomputeSummary()
            desired, changed, removed = _compute_and_write_python([indicator_id], as_of)
        else:
            _lock_and_read_versions([indicator_id])
            taken = _take_cell_requests([indicator_id])
            if not taken:
                return RecomputeSummary()
            with connection.cursor() as cursor:
                cursor.execute(
                    cell_recompute_sql(),
                    {
                        "ids": [indicator_id],
                        "now": timezone.now(),
                        "as_of": as_of,
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
            request = quoted_names(RollupCellRequest)
            cursor.execute(
                f"WITH taken AS (DELETE FROM {request.table} WHERE {request.indicator} = ANY(%s) "
                f"RETURNING {request.indicator}, {request.municipality_id}, {request.disaggregation_category}, "
                f"{request.disaggregation_option}) "
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


def rebuild_indicators(indicator_ids: Iterable[int], *, as_of: date | None = None) -> RecomputeSummary:
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
        return recompute_indicators(ids, as_of=as_of)
    if not ids:
        return RecomputeSummary()
    started = time.perf_counter()
    now = timezone.now()
    as_of = as_of or timezone.localdate()
    with transaction.atomic():
        versions = _lock_and_read_versions(ids)
        _take_cell_requests(ids)
        with connection.cursor() as cursor:
            # Stable until commit: every writer of these indicators' rollups holds their locks.
            # Asked as the first row in the ids' range, which PostgreSQL always reads from the
            # index; "any row for these ids" it planned, in a profiled first build, as a table scan
            # expecting an early match, and on a first build there is none. A row of another indicator in the range only
            # sends the chunk down the compare path, which is correct for any state.
            rollup = quoted_names(Rollup)
            cursor.execute(
                f"SELECT min({rollup.indicator}) IS NOT NULL FROM {rollup.table} "
                f"WHERE {rollup.indicator} BETWEEN %s AND %s",
                [ids[0], ids[-1]],
            )
            if cursor.fetchone()[0]:
                cursor.execute(rebuild_compute_sql(), {"ids": ids, "as_of": as_of})
                cursor.execute(f"ANALYZE {_FRESH_TABLE}")  # so that the EXCEPT is planned as a hash
                cursor.execute(rebuild_write_sql(), {"ids": ids, "now": now, "as_of": as_of})
                desired, changed, removed = cursor.fetchone()
                cursor.execute(f"DROP TABLE {_FRESH_TABLE}")
            else:
                cursor.execute(rebuild_insert_sql(), {"ids": ids, "now": now, "as_of": as_of})
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
    state = quoted_names(IndicatorRollupState)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {state.indicator}, {state.requested_version} FROM {state.table} WHERE {state.indicator} = ANY(%s)",
            [ids],
        )
        return dict(cursor.fetchall())


def _compute_and_write_postgresql(ids: list[int], as_of: date) -> tuple[int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute(full_recompute_sql(), {"ids": ids, "now": timezone.now(), "as_of": as_of})
        desired, changed, removed = cursor.fetchone()
    return desired, changed, removed


def _mark_computed(ids: list[int], versions: dict[int, int]) -> None:
    """Record what was computed. Rows that a writer holds locked are left for its own task."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        state, indicator = quoted_names(IndicatorRollupState), quoted_names(Indicator)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH seen AS (
                    SELECT * FROM unnest(%(ids)s::bigint[], %(versions)s::bigint[]) AS s(indicator_id, version)
                ),
                inserted AS (
                    INSERT INTO {state.table}
                        ({state.indicator}, {state.requested_version}, {state.computed_version}, {state.computed_at})
                    SELECT seen.indicator_id, 0, 0, %(now)s FROM seen
                    JOIN {indicator.table} i ON i.{indicator.id} = seen.indicator_id
                    ON CONFLICT ({state.indicator}) DO NOTHING
                ),
                lockable AS (
                    SELECT st.{state.indicator} AS indicator_id FROM {state.table} st
                    WHERE st.{state.indicator} = ANY(%(ids)s) FOR UPDATE SKIP LOCKED
                )
                UPDATE {state.table} st
                SET {state.computed_version} = GREATEST(st.{state.computed_version}, seen.version),
                    {state.computed_at} = %(now)s,
                    {state.dirty_since} = CASE WHEN st.{state.requested_version} <= seen.version THEN NULL
                                               ELSE st.{state.dirty_since} END
                FROM seen
                WHERE st.{state.indicator} = seen.indicator_id
                  AND st.{state.indicator} IN (SELECT indicator_id FROM lockable)
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
# The numbers a recompute compares and rewrites (`_stored_numbers`), named alike on the model and
# on the pure rules' cells.
_ROLLUP_NUMBERS = (
    "actual",
    "target",
    "percent_of_target",
    "status",
    "target_to_date",
    "percent_to_date",
    "status_to_date",
)


def desired_cells(ids: Sequence[int], *, as_of: date | None = None) -> dict[int, list[rollup_math.RollupCell]]:
    """The rollup rows the pure rules give for these indicators, read in a fixed number of queries;
    progress to date as of `as_of` (default today)."""
    as_of = as_of or timezone.localdate()
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
            spec, results[spec.id], targets[spec.id], members[spec.programme_id], as_of=as_of
        )
    return cells


def _compute_and_write_python(ids: list[int], as_of: date) -> tuple[int, int, int]:
    now = timezone.now()
    wanted: dict[tuple, rollup_math.RollupCell] = {}
    for indicator_id, cells in desired_cells(ids, as_of=as_of).items():
        for cell in cells:
            wanted[(indicator_id, *cell.key)] = cell
    existing = {
        (row.indicator_id, *(getattr(row, f) for f in _ROLLUP_KEY_FIELDS)): row
        for row in Rollup.objects.filter(indicator_id__in=ids)
    }
    to_create, to_update = [], []
    for key, cell in wanted.items():
        row = existing.get(key)
        values = tuple(getattr(cell, name) for name in _ROLLUP_NUMBERS)
        row_as_of = as_of if cell.period_start is None else None
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
                    **dict(zip(_ROLLUP_NUMBERS, values, strict=True)),
                    as_of=row_as_of,
                    computed_at=now,
                )
            )
        elif tuple(getattr(row, name) for name in _ROLLUP_NUMBERS) != values:
            for name, value in zip(_ROLLUP_NUMBERS, values, strict=True):
                setattr(row, name, value)
            row.as_of = row_as_of  # as in the SQL upsert: a row whose numbers did not move keeps its date
            row.computed_at = now
            to_update.append(row)
    stale = [row.pk for key, row in existing.items() if key not in wanted]
    Rollup.objects.bulk_create(to_create, batch_size=500)
    Rollup.objects.bulk_update(to_update, [*_ROLLUP_NUMBERS, "as_of", "computed_at"], batch_size=500)
    Rollup.objects.filter(pk__in=stale).delete()
    return len(wanted), len(to_create) + len(to_update), len(stale)
