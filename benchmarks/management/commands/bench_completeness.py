"""`manage.py bench_completeness --municipalities 100 --indicators 200 --periods 12`: the completeness
report's benchmark (docs/performance.md, "Completeness").

Builds `bench_rollups`' dataset (municipalities × indicators × periods × 5 disaggregations of
results) in a database of its own (created and dropped here), makes every programme start on
1 January 2024 and gives the totals a reporting history: every tenth a draft (missing), the others
first submitted 0–60 days after their period ended (on time or late against the 30 days allowed),
spread deterministically.
Then prints ONE JSON line:

    cells               expected cells (indicator × municipality × period due by --as-of)
    compute_s_median    the whole national report computed (one SQL statement and three name
    compute_s_min       reads), uncached, three runs
    serve_ms_p50/p95    GET /api/v1/reports/completeness/ as a ministry user, from the cache
                        (in process, the whole middleware and authentication stack; 100 requests)
    fresh_ms            a result submitted, then the next GET (a miss: computed again, not served stale)
    goal_compute_s, goal_serve_p95_ms   the targets (1 s and 100 ms)
"""

from __future__ import annotations

import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from benchmarks.child import admin, database_url

from .bench_rollups import _load

SERVE_SAMPLES = 100
COMPUTE_RUNS = 3


class Command(BaseCommand):
    help = "Benchmark the completeness report on the rollup benchmark's dataset, in its own database."

    def add_arguments(self, parser):
        parser.add_argument("--municipalities", type=int, default=100)
        parser.add_argument("--indicators", type=int, default=200)
        parser.add_argument("--periods", type=int, default=12)
        parser.add_argument("--as-of", default="2025-12-31", help="the report's date (YYYY-MM-DD)")
        parser.add_argument("--database-name", default="twinning_bench_completeness")
        parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
        parser.add_argument("--inner", action="store_true", help="(internal) run the bench here")

    def handle(self, *args, **options):
        if options["inner"]:
            self.stdout.write(json.dumps(run_bench(options)))
            return
        server = dict(settings.DATABASES["default"])
        if "postgresql" not in server["ENGINE"]:
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL to a PostgreSQL server.")
        name = options["database_name"]
        if name == server["NAME"]:
            raise CommandError("Refusing to benchmark in the configured database; pick another --database-name.")
        admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(server, f'CREATE DATABASE "{name}"')
        try:
            env = {
                **os.environ,
                "DATABASE_URL": database_url(server, name),
                "DJANGO_SETTINGS_MODULE": "twinning.settings",
                "DEBUG": "0",
                "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(60),
                "ALLOWED_HOSTS": "testserver",
                "SECURE_SSL_REDIRECT": "0",
                "CELERY_TASK_ALWAYS_EAGER": "1",
                "LOG_LEVEL": "WARNING",
                "DB_CONN_MAX_AGE": "0",
            }
            env.pop("REDIS_URL", None)  # the report and its cache are measured, not the broker
            command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_completeness", "--inner"]
            command += ["--municipalities", str(options["municipalities"]), "--indicators", str(options["indicators"])]
            command += ["--periods", str(options["periods"]), "--as-of", options["as_of"]]
            child = subprocess.run(command, env=env, capture_output=True, text=True)
            if child.returncode != 0:
                raise CommandError(f"The benchmark failed:\n{child.stderr[-4000:]}")
            self.stdout.write(child.stdout.strip().splitlines()[-1])
        finally:
            if not options["keep"]:
                admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _history() -> None:
    """Give the loaded totals a reporting history (set-based, in one statement)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projects_programme SET start_date = DATE '2024-01-01'")
        # Deterministic: every tenth total (the first included) a draft; the others first
        # submitted 0–60 days after their period ended.
        cursor.execute(
            """
            WITH numbered AS (
                SELECT id, row_number() OVER (ORDER BY id) AS n FROM indicators_result
                WHERE disaggregation_category = ''
            )
            UPDATE indicators_result AS r
               SET status = CASE WHEN numbered.n % 10 = 1 THEN 'draft' ELSE 'approved' END,
                   first_submitted_at = (r.period_end + (numbered.n * 37 % 61)::int + TIME '10:00') AT TIME ZONE 'UTC',
                   submitted_at = (r.period_end + 61 + TIME '10:00') AT TIME ZONE 'UTC'
              FROM numbered
             WHERE r.id = numbered.id
            """
        )
        cursor.execute("VACUUM ANALYZE")


def run_bench(options) -> dict:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from indicators.models import Result
    from indicators.services import result_submit
    from partners.models import Membership, Organisation
    from projects.access import access_for
    from reporting.completeness import completeness

    call_command("migrate", verbosity=0, skip_checks=True)
    results = _load(random.Random(1), options["municipalities"], options["indicators"], options["periods"])
    _history()
    as_of = date.fromisoformat(options["as_of"])
    ministry = Organisation.objects.create(kind="ministry", name="Bench ministry", country="LY")
    user = get_user_model().objects.create_user("bench-ministry")
    Membership.objects.create(user=user, organisation=ministry, role=Membership.Role.APPROVER)
    access = access_for(user)

    durations = []
    for _run in range(COMPUTE_RUNS):
        started = time.perf_counter()
        report = completeness(access=access, as_of=as_of)
        durations.append(time.perf_counter() - started)

    client = APIClient()
    client.force_authenticate(user)
    url = "/api/v1/reports/completeness/"
    warm = client.get(url, {"as_of": as_of.isoformat()})  # fills the cache
    if warm.status_code != 200:
        raise CommandError("the report did not answer 200")
    served = []
    for _sample in range(SERVE_SAMPLES):
        started = time.perf_counter()
        client.get(url, {"as_of": as_of.isoformat()})
        served.append((time.perf_counter() - started) * 1000)

    draft = Result.objects.filter(status=Result.Status.DRAFT, disaggregation_category="").order_by("id").first()
    result_submit(result=draft, user=user)
    started = time.perf_counter()
    after = client.get(url, {"as_of": as_of.isoformat()}).json()
    fresh_ms = (time.perf_counter() - started) * 1000
    if after["computed_at"] == warm.json()["computed_at"]:
        raise CommandError("the answer after a submission came from the cache")

    national = report["totals"]["national"]
    return {
        "results": results,
        "cells": national["expected"],
        "on_time": national["on_time"],
        "late": national["late"],
        "missing": national["missing"],
        "rows": len(report["rows"]),
        "compute_s_median": round(statistics.median(durations), 3),
        "compute_s_min": round(min(durations), 3),
        "serve_ms_p50": round(statistics.median(served), 2),
        "serve_ms_p95": round(statistics.quantiles(served, n=20)[-1], 2),
        "fresh_ms": round(fresh_ms, 1),
        "goal_compute_s": 1.0,
        "goal_serve_p95_ms": 100.0,
        "municipalities": options["municipalities"],
        "indicators": options["indicators"],
        "periods": options["periods"],
        "as_of": as_of.isoformat(),
    }
