"""`manage.py bench_api`: the API benchmark (docs/performance.md, API). Not a test: it prints numbers.

1. Builds the rollup benchmark's dataset (`bench_rollups`' builder: municipalities × indicators ×
   periods × 5 disaggregations of approved results) in a database of its own (`twinning_bench_api`,
   created and dropped here), puts every indicator into one programme (a 200-indicator IPTT),
   computes every rollup and the alignment snapshot, and creates a ministry viewer with a token.
2. Serves it with gunicorn (2 workers) on 127.0.0.1 and loads each endpoint with wrk (Debian's
   `wrk`; bounded: --duration seconds, --connections connections, loopback only).
3. Prints one line per endpoint: req/s, p50 and p95 latency (ms) and the share of the ceiling's
   req/s (a plain JsonResponse on the same server), then the same as one JSON line.

Reports are served from the cache (Redis from REDIS_URL, else process memory) after the first
request, as in production.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from benchmarks.child import admin, database_url

from .bench_rollups import _load

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


class Command(BaseCommand):
    help = "Benchmark the REST API with gunicorn (2 workers) and wrk on the rollup benchmark's dataset."

    def add_arguments(self, parser):
        parser.add_argument("--municipalities", type=int, default=100)
        parser.add_argument("--indicators", type=int, default=200)
        parser.add_argument("--periods", type=int, default=12)
        parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
        parser.add_argument("--connections", type=int, default=2, help="wrk connections (2 = one per worker)")
        parser.add_argument("--port", type=int, default=0, help="0: any free port on 127.0.0.1")
        parser.add_argument("--database-name", default="twinning_bench_api")
        parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
        parser.add_argument("--reuse", action="store_true", help="reuse a kept database (skip the build)")
        parser.add_argument("--inner-build", action="store_true", help="(internal) build the dataset here")

    def handle(self, *args, **options):
        if options["inner_build"]:
            self.stdout.write(json.dumps(build(options)))
            return
        if not shutil.which("wrk"):
            raise CommandError("wrk is not installed (apt-get install -y wrk).")
        server = dict(settings.DATABASES["default"])
        if "postgresql" not in server["ENGINE"]:
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL to a PostgreSQL server.")
        name = options["database_name"]
        if name == server["NAME"]:
            raise CommandError("Refusing to benchmark in the configured database.")
        url = database_url(server, name)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "twinning.settings",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "API_THROTTLE_USER_RATE": "1000000/minute",  # measure the server, not the throttle
            "LOG_LEVEL": "WARNING",
            "DB_CONN_MAX_AGE": "600",
        }
        try:
            if not options["reuse"]:
                admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin(server, f'CREATE DATABASE "{name}"')
                self.stderr.write("building the dataset …")
            command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_api", "--inner-build"]
            command += ["--municipalities", str(options["municipalities"]), "--indicators", str(options["indicators"])]
            command += ["--periods", str(options["periods"])] + (["--reuse"] if options["reuse"] else [])
            child = subprocess.run(
                command, env={**env, "CELERY_TASK_ALWAYS_EAGER": "1"}, capture_output=True, text=True
            )
            if child.returncode != 0:
                raise CommandError(f"Building the dataset failed:\n{child.stderr[-4000:]}")
            facts = json.loads(child.stdout.strip().splitlines()[-1])
            numbers = serve_and_load(env, facts, options, self.stderr)
        finally:
            if not options["keep"]:
                admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        ceiling = numbers["ceiling"]["rps"]
        self.stdout.write(f"{'endpoint':<22}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'of ceiling':>12}")
        for label, row in numbers.items():
            share = row["rps"] / ceiling * 100 if ceiling else 0
            row["share_of_ceiling_pct"] = round(share, 1)
            self.stdout.write(
                f"{label:<22}{row['rps']:>10.1f}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{share:>11.1f}%"
            )
        facts.pop("token", None)
        self.stdout.write(json.dumps({"dataset": facts, "endpoints": numbers}))


def build(options) -> dict:
    """(In the child, on the bench database.) Load, move every indicator into one programme,
    compute rollups and alignment, create the benchmark user."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from indicators.models import Indicator, Result
    from partners.models import Membership, Organisation
    from projects.models import Programme
    from rollups import alignment, engine
    from rollups.models import Rollup

    call_command("migrate", verbosity=0, skip_checks=True)  # a reused database may miss new migrations
    if not options["reuse"]:
        _load(random.Random(1), options["municipalities"], options["indicators"], options["periods"])
        programme = Programme.objects.order_by("id").first()
        Indicator.objects.update(programme=programme)
        # A three-year programme: its IPTT shows 36 months, 12 quarters, 6 half-years or 3 years
        # per indicator (plus any later period the dataset has data for).
        Programme.objects.filter(pk=programme.pk).update(start_date=date(2024, 1, 1), end_date=date(2026, 12, 31))
        engine.recompute_all()
        alignment.force_global_snapshot()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would have: statistics and the visibility map
        ministry = Organisation.objects.create(kind="ministry", name="Bench ministry", country="LY")
        user = get_user_model().objects.create_user("bench-ministry")
        Membership.objects.create(user=user, organisation=ministry, role=Membership.Role.VIEWER)
    user = get_user_model().objects.get(username="bench-ministry")
    programme = Programme.objects.filter(indicators__isnull=False).order_by("id").first()
    indicator = Indicator.objects.filter(programme=programme).order_by("id").first()
    return {
        "token": Token.objects.get_or_create(user=user)[0].key,
        "programme": programme.pk,
        "indicator": indicator.pk,
        "indicators_in_programme": Indicator.objects.filter(programme=programme).count(),
        "results": Result.objects.count(),
        "rollups": Rollup.objects.count(),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_and_load(env: dict, facts: dict, options: dict, log) -> dict:
    port = options["port"] or _free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "benchmarks.wsgi:application", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--chdir", str(settings.BASE_DIR)],
        env=env, start_new_session=True,
    )  # fmt: skip
    endpoints = {
        "ceiling": "/bench/ceiling/",
        "results_page_100": f"/api/v1/results/?page_size=100&indicator={facts['indicator']}",
        "results_all_page_100": "/api/v1/results/?page_size=100",
        "rollups_page_100": f"/api/v1/rollups/?page_size=100&indicator={facts['indicator']}",
        "rollups_all_page_100": "/api/v1/rollups/?page_size=100",
        "iptt_200_indicators": f"/api/v1/reports/iptt/?programme={facts['programme']}",
        "alignment_report": "/api/v1/reports/alignment/",
    }
    headers = {"Authorization": f"Token {facts['token']}"}
    numbers = {}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        _wait_until_up(base + "/bench/ceiling/", server)
        for label, path in endpoints.items():
            request = urllib.request.Request(base + path, headers=headers)
            with urllib.request.urlopen(request, timeout=120) as response:  # warm the cache and check
                if response.status != 200:
                    raise CommandError(f"{path} answered {response.status}")
            log.write(f"loading {label} for {options['duration']} s …")
            output = subprocess.run(
                ["wrk", "-t", "2", "-c", str(options["connections"]), "-d", f"{options['duration']}s",
                 "--timeout", "10s", "-s", script.name, "-H", f"Authorization: Token {facts['token']}", base + path],
                capture_output=True, text=True, timeout=options["duration"] + 60,
            )  # fmt: skip
            match = re.search(r"BENCH (\d+) (\d+) (\d+) (\d+) (\d+)", output.stdout)
            if not match:
                raise CommandError(f"wrk failed for {path}:\n{output.stdout}\n{output.stderr}")
            requests_, duration_us, p50, p95, errors = map(int, match.groups())
            numbers[label] = {
                "path": path,
                "rps": round(requests_ / (duration_us / 1e6), 1),
                "p50_ms": round(p50 / 1000, 2),
                "p95_ms": round(p95 / 1000, 2),
                "errors": errors,
            }
    finally:
        os.unlink(script.name)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    return numbers


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError("gunicorn exited before serving")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise CommandError("gunicorn did not start within 60 s")
