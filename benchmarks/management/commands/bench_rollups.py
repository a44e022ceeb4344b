"""`manage.py bench_rollups --municipalities 100 --indicators 200 --periods 12`: the rollup benchmark.

Builds a synthetic national-scale dataset in a database of its own (created and dropped here,
`twinning_bench` unless `--database-name`/`--database-url` say otherwise; never the configured
database), then prints ONE JSON line:

    results              approved result rows loaded (totals + sex and age disaggregations)
    full_recompute_s     every rollup of every indicator from an empty rollup table
    reconcile_s          the same again when everything is already right (the nightly reconcile)
    raw_groupby_s        one plain GROUP BY indicator, period, municipality over the same rows,
                         fetched by the client: the floor
    ratio                full_recompute_s / raw_groupby_s
    incremental_ms_p50/95  change one result's value, record the changed cell, and bring every
                         rollup depending on it up to date (the worker's cell recompute; 50 samples)
    alignment_s          the every-programme alignment report, computed and stored
    peak_rss_mb          peak resident memory of the process that did all of the above

The work runs in a child process pointed at the bench database (so every connection, the ORM
and the engine use it exactly as in production); the parent creates and drops the database.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from benchmarks.child import run_in_own_database

DISAGGREGATIONS = [("", ""), ("sex", "female"), ("sex", "male"), ("age", "youth"), ("age", "adult")]
MEASURES = ["number", "number", "percentage", "score"]
AGGREGATIONS = ["sum", "cumulative", "latest"]
FREQUENCIES = ["monthly", "quarterly", "semiannual", "annual"]
INCREMENTAL_SAMPLES = 50


class Command(BaseCommand):
    help = "Benchmark the rollup engine on a synthetic national-scale dataset in its own database."

    def add_arguments(self, parser):
        parser.add_argument("--municipalities", type=int, default=100)
        parser.add_argument("--indicators", type=int, default=200)
        parser.add_argument("--periods", type=int, default=12)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="connections for full recomputes")
        parser.add_argument("--database-name", default="twinning_bench", help="created and dropped by the bench")
        parser.add_argument(
            "--database-url", help="an existing, empty PostgreSQL database to use instead (not dropped)"
        )
        parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
        parser.add_argument("--inner", action="store_true", help=f"(internal) run the bench here; {__name__}")

    def handle(self, *args, **options):
        if options["inner"]:
            self.stdout.write(json.dumps(run_bench(options)))
            return
        inner = [f"--{name}={options[name]}" for name in ("municipalities", "indicators", "periods", "seed", "jobs")]
        line = run_in_own_database("bench_rollups", options, inner, env={"CELERY_TASK_ALWAYS_EAGER": "1"})
        self.stdout.write(line)


def run_bench(options) -> dict:
    from rollups import alignment, engine
    from rollups.queue import record_cell_requests

    call_command("migrate", verbosity=0, skip_checks=True)
    rng = random.Random(options["seed"])
    results = _load(rng, options["municipalities"], options["indicators"], options["periods"])

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        started = time.perf_counter()
        cursor.execute(
            "SELECT indicator_id, period_start, municipality_id, sum(value), count(*) FROM indicators_result "
            "WHERE status = 'approved' GROUP BY indicator_id, period_start, municipality_id"
        )
        grouped = cursor.fetchall()
        raw_groupby_s = time.perf_counter() - started
    del grouped

    started = time.perf_counter()
    full = engine.recompute_all(jobs=options["jobs"])
    full_recompute_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE indicators_rollup")
    started = time.perf_counter()
    again = engine.recompute_all(jobs=options["jobs"])
    reconcile_s = time.perf_counter() - started

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, indicator_id, municipality_id, disaggregation_category, disaggregation_option "
            "FROM indicators_result WHERE status = 'approved' ORDER BY random() LIMIT %s",
            [INCREMENTAL_SAMPLES],
        )
        samples = cursor.fetchall()
    durations = []
    for result_id, indicator_id, municipality_id, category, option in samples:
        started = time.perf_counter()
        # What the request does: change the value and record the changed cell, in one transaction
        # (the on-commit enqueue is left out: the broker is not what is measured here) ...
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE indicators_result SET value = value + 1 WHERE id = %s", [result_id])
            record_cell_requests([(indicator_id, municipality_id, category, option)])
        # ... and what the worker's task then does.
        engine.recompute_requested_cells(indicator_id)
        durations.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    alignment.force_global_snapshot()
    alignment_s = time.perf_counter() - started

    return {
        "results": results,
        "full_recompute_s": round(full_recompute_s, 3),
        "reconcile_s": round(reconcile_s, 3),
        "raw_groupby_s": round(raw_groupby_s, 3),
        "ratio": round(full_recompute_s / raw_groupby_s, 2),
        "incremental_ms_p50": round(statistics.median(durations), 2),
        "incremental_ms_p95": round(statistics.quantiles(durations, n=20)[-1], 2) if len(durations) > 1 else None,
        "alignment_s": round(alignment_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rollup_rows": full.rows_written,
        "reconcile_rows_corrected": again.rows_corrected,
        "municipalities": options["municipalities"],
        "indicators": options["indicators"],
        "periods": options["periods"],
        "jobs": options["jobs"],
    }


def _load(rng: random.Random, municipalities: int, indicators: int, periods: int) -> int:
    """Organisations, programmes, twinnings, workstreams, goals, indicators, targets via the ORM
    in bulk; results (the million rows) with COPY. Returns the number of approved results."""
    from indicators.models import Alignment, DisaggregationCategory, FunderGoal, Indicator, NationalTarget, Target
    from indicators.periods import periods_between
    from partners.models import Organisation
    from projects.models import Programme, Theme, Twinning, Workstream

    towns = Organisation.objects.bulk_create(
        Organisation(kind="municipality", name=f"Bench municipality {n}", country="LY") for n in range(municipalities)
    )
    donors = Organisation.objects.bulk_create(
        Organisation(kind="donor", name=f"Bench donor {n}", country="US") for n in range(5)
    )
    programme_count = max(1, indicators // 20)
    programmes = Programme.objects.bulk_create(
        Programme(
            code=f"BENCH-{n}",
            name=f"Bench programme {n}",
            start_date=date(2020 + n % 3, 1, 1),
            end_date=date(2040, 12, 31),
            fiscal_year_start_month=rng.choice([1, 10]),
        )
        for n in range(programme_count)
    )
    Programme.donors.through.objects.bulk_create(
        Programme.donors.through(programme_id=p.id, organisation_id=donors[n % len(donors)].id)
        for n, p in enumerate(programmes)
    )
    twinnings = Twinning.objects.bulk_create(
        Twinning(programme=p, name=f"Bench twinning {p.id}-{k}")
        for p in programmes
        for k in range(max(1, municipalities // 2))
    )
    # Twinnings pair neighbouring municipalities: k-th twinning = municipalities 2k and 2k+1.
    Twinning.municipalities.through.objects.bulk_create(
        Twinning.municipalities.through(twinning_id=twinning.id, organisation_id=town.id)
        for twinning in twinnings
        for town in towns[2 * int(twinning.name.rsplit("-", 1)[1]) :][:2] or towns[:1]
    )
    themes = Theme.objects.bulk_create(Theme(code=f"bench-{n}", name=f"Bench theme {n}") for n in range(8))
    workstreams = Workstream.objects.bulk_create(
        Workstream(programme=p, theme=themes[(p.id + k) % len(themes)], name=f"Bench workstream {p.id}-{k}")
        for p in programmes
        for k in range(3)
    )
    Workstream.municipalities.through.objects.bulk_create(
        Workstream.municipalities.through(workstream_id=w.id, organisation_id=town.id)
        for w in workstreams
        for town in rng.sample(towns, min(len(towns), 10))
    )
    for code in ("sex", "age"):
        DisaggregationCategory.objects.get_or_create(code=code, defaults={"name": code})

    national = NationalTarget.objects.bulk_create(
        NationalTarget(code=f"BNT-{n}", title=f"Bench NT {n}") for n in range(20)
    )
    goals = []
    for donor in donors:
        root = FunderGoal.objects.create(donor=donor, code="G", title="Goal")
        goals.append(root)
        for k in range(5):
            child = FunderGoal.objects.create(donor=donor, code=f"G.{k}", title=f"Goal {k}", parent=root)
            goals.append(child)

    created = Indicator.objects.bulk_create(
        Indicator(
            programme=programmes[n % programme_count],
            code=f"BI-{n}",
            name=f"Bench indicator {n}",
            measure=MEASURES[n % len(MEASURES)],
            time_aggregation=AGGREGATIONS[(n // len(MEASURES)) % len(AGGREGATIONS)],
            direction="decrease" if n % 7 == 0 else "increase",
            frequency=FREQUENCIES[n % len(FREQUENCIES)],
            lop_target=Decimal(rng.randint(1000, 90000)) if n % 3 == 0 else None,
        )
        for n in range(indicators)
    )
    Alignment.objects.bulk_create(
        [
            Alignment(indicator=i, national_target=rng.choice(national), weight=Decimal(rng.randint(1, 3)))
            for i in created
        ]
        + [Alignment(indicator=i, funder_goal=rng.choice(goals)) for i in created if rng.random() < 0.7]
    )
    programme_fiscal = {p.id: p.fiscal_year_start_month for p in programmes}
    spans = {
        i.id: periods_between(date(2024, 1, 1), date(2060, 1, 1), i.frequency, programme_fiscal[i.programme_id])[
            :periods
        ]
        for i in created
    }
    Target.objects.bulk_create(
        (
            Target(
                indicator=i, municipality=town, period_start=start, period_end=end, value=Decimal(rng.randint(0, 500))
            )
            for i in created
            for start, end in spans[i.id]
            for town in [None, *towns]
            if town is None or rng.random() < 0.5
        ),
        batch_size=5000,
    )

    now = datetime.now(UTC)
    columns = (
        "indicator_id, municipality_id, period_start, period_end, disaggregation_category, disaggregation_option, "
        "value, numerator, denominator, status, comment, evidence_url, version, created_at, updated_at"
    )
    count = 0
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor, cursor.copy(f"COPY indicators_result ({columns}) FROM STDIN") as copy:
        for indicator in created:
            percentage = indicator.measure == "percentage"
            for start, end in spans[indicator.id]:
                for town in towns:
                    for category, option in DISAGGREGATIONS:
                        if percentage:
                            denominator = rng.randint(1, 400)
                            numerator = rng.randint(0, denominator)
                            value = Decimal(100 * numerator) / denominator
                            row_value = value.quantize(Decimal("0.0001"))
                        else:
                            numerator = denominator = None
                            row_value = Decimal(rng.randint(0, 100000)) / 100
                        copy.write_row(
                            (indicator.id, town.id, start, end, category, option, row_value, numerator, denominator,
                             "approved", "", "", 1, now, now)
                        )  # fmt: skip
                        count += 1
    if not raw.autocommit:
        raw.commit()
    return count
