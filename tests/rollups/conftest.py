"""Fixtures of the rollup tests: a private Celery queue and a record of published tasks."""

import uuid

import pytest
import redis
from celery.signals import before_task_publish
from django.conf import settings


@pytest.fixture
def rollup_queue_name():
    """A queue name no other engineer's worker listens to; emptied afterwards."""
    name = f"rollups-test-{uuid.uuid4().hex[:10]}"
    from django.test import override_settings

    with override_settings(CELERY_ROLLUP_QUEUE=name):
        yield name
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(
        name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}"
    )


@pytest.fixture
def published_tasks(rollup_queue_name):
    """(task name, args) of every task published to the broker during the test."""
    published = []

    def record(sender=None, headers=None, body=None, **kwargs):
        published.append((sender, tuple(body[0]) if body else ()))

    before_task_publish.connect(record, weak=False)
    yield published
    before_task_publish.disconnect(record)
