"""Fixtures of the page tests: the roles world of `tests/roles.py` with its rollups computed, and
a signed-in Django test client per role."""

import pytest
from django.core.cache import cache
from django.test import Client

from rollups.alignment import force_global_snapshot
from rollups.engine import recompute_all
from tests.roles import build_world


def recompute():
    """What the rollup worker does after a write: every indicator, then the alignment snapshot."""
    recompute_all()
    force_global_snapshot()
    cache.clear()


@pytest.fixture
def world(db):
    built = build_world()
    recompute()
    return built


@pytest.fixture
def client_for(world):
    """client_for("donor_a_viewer") → a Client signed in as that role (None: anonymous)."""

    def make(name=None):
        client = Client()
        if name is not None:
            client.force_login(world.users[name])
        return client

    return make


@pytest.fixture
def eager_celery():
    """Rollup tasks run in-process when a write commits (the embedded default), restored after."""
    from twinning.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
