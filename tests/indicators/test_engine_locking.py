"""Two recomputes of one indicator never interleave: the per-indicator advisory lock."""

import threading
from decimal import Decimal

import psycopg
import pytest
from django.db import connection, connections

from indicators import engine
from indicators.models import Rollup
from tests.factories import ResultFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_recompute_waits_for_the_indicators_lock_and_others_do_not():
    locked = ResultFactory(status="approved", value=Decimal(3)).indicator
    free = ResultFactory(status="approved", value=Decimal(4)).indicator
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
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
