"""When a part fails: a worker started as people type it, and rollups that catch up by themselves
once Redis comes back (real worker, real beat, a Redis of the test's own)."""

import os
import socket
import subprocess
import sys
from decimal import Decimal

import pytest
import redis

from indicators.models import Result
from rollups.queue import pending_indicator_ids
from tests.factories import IndicatorFactory, MunicipalityFactory, ProgrammeFactory, ResultFactory, TargetFactory
from tests.rollups.test_worker_rollups import (
    CELERY,
    ROOT,
    Worker,
    approve_result,
    database_url,
    programme_total,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_started_without_queue_options_computes_rollups(rollup_queue_name, tmp_path):
    """`celery -A twinning worker` (no `-Q`) takes the rollup queue too, not only `default`."""
    worker = Worker(rollup_queue_name, tmp_path / "worker.log", plain=True).start()
    try:
        indicator = IndicatorFactory(programme=ProgrammeFactory())
        TargetFactory(indicator=indicator, value=Decimal(100))
        approve_result(indicator, MunicipalityFactory(), Decimal(30))
        row = wait_for(lambda: programme_total(indicator.id), "the rollup")
        assert (row.actual, row.status) == (Decimal(30), "below")
    finally:
        worker.kill()


class OwnRedis:
    """A redis-server of the test's own on a free port: the shared one on 6379 is never touched."""

    def __init__(self, directory):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def start(self) -> None:
        subprocess.run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "yes", "--dir", str(self.directory), "--pidfile", str(self.directory / "redis.pid"),
             "--logfile", str(self.directory / "redis.log")],
            check=True,
        )  # fmt: skip
        wait_for(self.ping, "our redis to start")

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)
        wait_for(lambda: not self.ping(), "our redis to stop")


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    if server.ping():
        server.stop()


APPROVE_WHILE_REDIS_IS_DOWN = """
import django, sys
django.setup()
from indicators.models import Result
from indicators.services import result_approve
result_approve(result=Result.objects.get(pk=int(sys.argv[1])), user=None)
print("approved")
"""


def test_rollups_lost_while_redis_was_down_catch_up_by_themselves_when_it_returns(
    own_redis, rollup_queue_name, tmp_path
):
    programme = ProgrammeFactory()
    town = MunicipalityFactory()
    indicator = IndicatorFactory(programme=programme)
    TargetFactory(indicator=indicator, value=Decimal(100))
    result = ResultFactory(
        indicator=indicator, municipality=town, period_start="2025-01-01", period_end="2025-03-31",
        value=Decimal(90), status=Result.Status.SUBMITTED,
    )  # fmt: skip
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "twinning.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": own_redis.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_ROLLUP_QUEUE": rollup_queue_name,
        "ROLLUP_REQUEUE_GRACE_SECONDS": "1",
        "ROLLUP_REQUEUE_EVERY_SECONDS": "1",
        "DB_CONN_MAX_AGE": "0",
    }

    own_redis.stop()
    approved = subprocess.run(
        [sys.executable, "-c", APPROVE_WHILE_REDIS_IS_DOWN, str(result.pk)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert approved.returncode == 0, approved.stderr
    assert "Could not enqueue rollup recompute" in approved.stderr
    assert pending_indicator_ids() == {indicator.id}
    own_redis.start()  # Redis is back, empty: the task that should have been sent is not there

    worker = Worker(rollup_queue_name, tmp_path / "worker.log", redis_url=own_redis.url, plain=True, env=env)
    beat_log = (tmp_path / "beat.log").open("ab")
    beat = subprocess.Popen(
        [str(CELERY), "-A", "twinning", "beat", "-l", "INFO", "-s", str(tmp_path / "beat-schedule"),
         "--max-interval", "1"],
        cwd=ROOT, env=env, stdout=beat_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        worker.start()
        row = wait_for(lambda: programme_total(indicator.id), "the rollup, with no one running a command", 30)
        assert (row.actual, row.target, row.status) == (Decimal(90), Decimal(100), "on_track")
        assert pending_indicator_ids() == set()
        assert b"rollups.requeue_stale" in (tmp_path / "beat.log").read_bytes()
    finally:
        beat.terminate()
        beat.wait(timeout=10)
        worker.kill()
