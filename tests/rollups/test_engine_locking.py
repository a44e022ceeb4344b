"""Two recomputes of one indicator never interleave: the per-indicator advisory lock."""

import threading
from decimal import Decimal

import psycopg
import pytest
from django.db import connection, connections

from rollups import engine
from rollups.models import Rollup
from tests.factories import ResultFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    """The test database, for a second connection that holds a lock the way another worker would."""
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_recompute_waits_for_the_indicators_lock_and_others_do_not():
    locked = ResultFactory(status="approved", value=Decimal(3)).indicator
    free = ResultFactory(status="approved", value=Decimal(4)).indicator
    url = _database_url()
    finished = threading.Event()

    def recompute_locked():
        try:
            engine.recompute_indicators([locked.id])
        finally:
            connections.close_all()
            finished.set()

    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [engine.ADVISORY_LOCK_CLASS, locked.id])
        worker = threading.Thread(target=recompute_locked)
        worker.start()

        def waiting_on_advisory_lock():
            return holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s",
                [locked.id],
            ).fetchone()[0]

        for _ in range(600):
            if waiting_on_advisory_lock():
                break
            finished.wait(0.05)
        assert waiting_on_advisory_lock() == 1  # blocked inside its transaction, nothing written
        assert not finished.is_set()
        assert not Rollup.objects.filter(indicator=locked).exists()
        engine.recompute_indicators([free.id])  # another indicator is not held up
        assert Rollup.objects.filter(indicator=free).exists()
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", [engine.ADVISORY_LOCK_CLASS, locked.id])
    worker.join(timeout=60)
    assert finished.is_set()
    assert Rollup.objects.get(indicator=locked, scope="programme", period_start__isnull=True).actual == Decimal(3)


def test_deleting_an_indicator_waits_for_its_recompute_and_leaves_no_rollups():
    """The rollup table has no foreign key: the deletion's lock is what keeps a recompute that
    is running from writing rows for an indicator that is gone."""
    indicator = ResultFactory(status="approved", value=Decimal(3)).indicator
    indicator_id = indicator.id
    engine.recompute_indicators([indicator_id])
    assert Rollup.objects.filter(indicator_id=indicator_id).exists()
    url = _database_url()
    finished = threading.Event()

    def delete_indicator():
        try:
            indicator.delete()
        finally:
            connections.close_all()
            finished.set()

    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [engine.ADVISORY_LOCK_CLASS, indicator_id])
        deleter = threading.Thread(target=delete_indicator)
        deleter.start()
        finished.wait(1)
        assert not finished.is_set()  # waiting for the recompute that holds the lock
        assert Rollup.objects.filter(indicator_id=indicator_id).exists()
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", [engine.ADVISORY_LOCK_CLASS, indicator_id])
    deleter.join(timeout=60)
    assert finished.is_set()
    assert not Rollup.objects.filter(indicator_id=indicator_id).exists()
    assert engine.recompute_indicators([indicator_id]).rows_written == 0  # a late task writes nothing
    assert not Rollup.objects.filter(indicator_id=indicator_id).exists()
