"""The rollup pipeline with a real Celery worker (subprocess) and real Redis — no eager mode.

Each test gets its own queue name, so no other engineer's worker takes our tasks; the worker
uses the test database. Waiting is by polling with a generous deadline (a timeout, not a timing
assertion).
"""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from indicators.models import Result
from rollups import engine
from rollups.models import Rollup
from rollups.queue import pending_indicator_ids, schedule_recompute
from rollups.tasks import recompute_indicator_rollups
from tests.factories import IndicatorFactory, MunicipalityFactory, ProgrammeFactory, TargetFactory, TwinningFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
DEADLINE = 60


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate, what: str, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


class Worker:
    """A `celery -A twinning worker` subprocess on the test's own queue.

    `plain=True` starts it as people type it, without `-Q`: it takes the queues of the settings.
    """

    def __init__(self, queue: str, log_path: Path, *, redis_url: str | None = None, plain: bool = False, env=None):
        self.queue = queue
        self.log_path = log_path
        self.redis_url = redis_url
        self.plain = plain
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "twinning.settings_test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis_url or settings.REDIS_URL,
            "CELERY_ROLLUP_QUEUE": self.queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_VISIBILITY_TIMEOUT": "2",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "DB_CONN_MAX_AGE": "0",
            **self.extra_env,
        }
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        queues = [] if self.plain else ["-Q", self.queue]
        self.process = subprocess.Popen(
            [str(CELERY), "-A", "twinning", "worker", *queues, "-c", "1", "-n", f"{self.queue}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: b" ready." in self.log_path.read_bytes()[offset:], "the worker to start")
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool children (its own process group), no goodbye."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def worker(rollup_queue_name, tmp_path):
    started = Worker(rollup_queue_name, tmp_path / "worker.log")
    yield started
    started.kill()


def programme_total(indicator_id):
    return Rollup.objects.filter(
        indicator_id=indicator_id, scope="programme", period_start__isnull=True, disaggregation_category=""
    ).first()


def approve_result(indicator, town, value, start="2025-01-01", end="2025-03-31"):
    with transaction.atomic():
        result = Result.objects.create(
            indicator=indicator, municipality=town, period_start=start, period_end=end, value=value, status="approved"
        )
        schedule_recompute(indicator_ids=[indicator.id])
    return result


def stored(indicator_id):
    return sorted(
        Rollup.objects.filter(indicator_id=indicator_id).values_list(
            "scope", "scope_id", "period_start", "disaggregation_category", "actual", "target", "status"
        ),
        key=repr,
    )


def truth(indicator_id):
    """What a fresh recompute from source gives, computed in a throwaway transaction."""
    with transaction.atomic():
        Rollup.objects.filter(indicator_id=indicator_id).delete()
        engine.recompute_indicators([indicator_id])
        rows = stored(indicator_id)
        transaction.set_rollback(True)
    return rows


def test_an_approved_result_reaches_the_rollups_and_alignment_is_queued_after(worker):
    worker.start()
    programme = ProgrammeFactory()
    town = MunicipalityFactory()
    indicator = IndicatorFactory(programme=programme)
    TargetFactory(indicator=indicator, value=Decimal(100))
    approve_result(indicator, town, Decimal(40))
    row = wait_for(lambda: programme_total(indicator.id), "the rollup")
    assert (row.actual, row.target, row.status) == (Decimal(40), Decimal(100), "below")
    assert pending_indicator_ids([indicator.id]) == set()
    from rollups.models import AlignmentSnapshot

    wait_for(lambda: AlignmentSnapshot.objects.filter(pk=1, computed_at__isnull=False).exists(), "alignment")


def test_rolled_back_transaction_enqueues_nothing(worker):
    worker.start()
    town = MunicipalityFactory()
    rolled_back, sentinel = IndicatorFactory.create_batch(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        Result.objects.create(
            indicator=rolled_back, municipality=town, period_start="2025-01-01", period_end="2025-03-31",
            value=5, status="approved",
        )  # fmt: skip
        schedule_recompute(indicator_ids=[rolled_back.id])
        raise RuntimeError("validation failed late")
    approve_result(sentinel, town, Decimal(1))  # one worker, FIFO: once this is done, all earlier ones are
    wait_for(lambda: programme_total(sentinel.id), "the sentinel rollup")
    assert not Rollup.objects.filter(indicator=rolled_back).exists()
    assert pending_indicator_ids() == set()


def test_the_same_task_delivered_twice_leaves_the_same_state(worker, rollup_queue_name):
    worker.start()
    programme = ProgrammeFactory()
    towns = MunicipalityFactory.create_batch(3)
    TwinningFactory(programme=programme, municipalities=towns[:2])
    indicator = IndicatorFactory(programme=programme, time_aggregation="cumulative")
    for index, town in enumerate(towns):
        approve_result(indicator, town, Decimal(index + 1))
    wait_for(lambda: not pending_indicator_ids([indicator.id]), "the first recompute")
    first = stored(indicator.id)
    for _ in range(2):
        recompute_indicator_rollups.apply_async(args=[indicator.id], queue=rollup_queue_name)
    sentinel = IndicatorFactory()
    approve_result(sentinel, towns[0], Decimal(1))
    wait_for(lambda: programme_total(sentinel.id), "the sentinel after both duplicates")
    assert stored(indicator.id) == first == truth(indicator.id)


def test_worker_killed_mid_recompute_then_restarted_leaves_correct_rollups(worker):
    worker.start()
    programme = ProgrammeFactory()
    towns = MunicipalityFactory.create_batch(4)
    TwinningFactory(programme=programme, municipalities=towns[:2])
    indicator = IndicatorFactory(programme=programme)
    for town in towns:
        approve_result(indicator, town, Decimal(10))
    wait_for(lambda: not pending_indicator_ids([indicator.id]), "the first recompute")
    assert programme_total(indicator.id).actual == Decimal(40)

    # Hold a lock on a row the next recompute must rewrite, so the worker stops mid-write.
    url = database_url().replace("postgres://", "postgresql://")
    with psycopg.connect(url) as blocker, psycopg.connect(url, autocommit=True) as monitor:
        blocker.execute(
            "SELECT 1 FROM indicators_rollup WHERE indicator_id = %s AND scope = 'programme' "
            "AND period_start IS NULL AND disaggregation_category = '' FOR UPDATE",
            [indicator.id],
        )
        approve_result(indicator, towns[0], Decimal(5), start="2025-04-01", end="2025-06-30")

        def worker_backend_waiting():
            row = monitor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE %s",
                ["%rollup engine: recompute%"],
            ).fetchone()
            return row and row[0]

        try:
            backend = wait_for(worker_backend_waiting, "the worker to block inside its recompute")
            worker.kill()
        finally:
            blocker.rollback()
        wait_for(
            lambda: not monitor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]).fetchone(),
            "the killed worker's transaction to end",
        )
    # The killed transaction left nothing half-written: the old numbers, still marked pending.
    assert programme_total(indicator.id).actual == Decimal(40)
    assert pending_indicator_ids([indicator.id]) == {indicator.id}

    worker.start()  # the task was never acknowledged: Redis hands it out again
    wait_for(lambda: not pending_indicator_ids([indicator.id]), "the redelivered recompute")
    assert programme_total(indicator.id).actual == Decimal(45)
    assert stored(indicator.id) == truth(indicator.id)


@pytest.fixture
def stopped_redis_url(tmp_path):
    """A throwaway Redis of our own (never the shared one), started and then shut down."""
    port = 6390
    subprocess.run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "yes", "--dir", str(tmp_path), "--pidfile", str(tmp_path / "redis.pid")],
        check=True,
    )  # fmt: skip
    wait_for(
        lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0, "redis"
    )
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
    wait_for(
        lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode != 0, "stop"
    )
    return f"redis://127.0.0.1:{port}/0"


SAVE_WHILE_BROKER_DOWN = """
import django, sys
django.setup()
from decimal import Decimal
from django.db import transaction
from indicators.models import Result
from rollups.queue import schedule_recompute
indicator_id, town_id = map(int, sys.argv[1:3])
with transaction.atomic():
    Result.objects.create(indicator_id=indicator_id, municipality_id=town_id, period_start="2025-01-01",
                          period_end="2025-03-31", value=Decimal(7), status="approved")
    schedule_recompute(indicator_ids=[indicator_id])
print("saved")
"""


def test_results_are_saved_while_redis_is_down_and_repaired_afterwards(stopped_redis_url):
    indicator = IndicatorFactory()
    town = MunicipalityFactory()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "twinning.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": stopped_redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", SAVE_WHILE_BROKER_DOWN, str(indicator.id), str(town.id)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "saved"  # the user sees no error
    assert "Could not enqueue rollup recompute" in done.stderr  # but it is logged
    assert Result.objects.filter(indicator=indicator, value=7).exists()  # nothing lost
    assert pending_indicator_ids() == {indicator.id}  # and the stale mark stays
    assert programme_total(indicator.id) is None

    call_command("recompute_rollups", "--no-progress")  # Redis back (or not): the repair needs no broker

    assert programme_total(indicator.id).actual == Decimal(7)
    assert pending_indicator_ids() == set()
