"""The bound on redeliveries of a task that keeps killing its worker (`common.deliveries`).

The count lives in the real cache (Redis); a delivery that "dies" is one whose count was taken and
never cleared, which is what a killed worker leaves behind."""

import logging

import pytest
from celery import shared_task
from django.core.cache import cache
from django.test import override_settings

from common import deliveries
from common.deliveries import BoundedDeliveryTask, count_delivery, delivery_finished, delivery_key, over_limit
from rollups import tasks

RAN: list[int] = []


@shared_task(name="tests.bounded_work", base=BoundedDeliveryTask, max_deliveries=3)
def bounded_work(item: int) -> int:
    RAN.append(item)
    return item * 2


@pytest.fixture(autouse=True)
def _fresh():
    RAN.clear()
    keys = [delivery_key(bounded_work.name, (item,), {}) for item in (1, 2)]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def die(item: int, times: int) -> None:
    """`times` deliveries of `bounded_work(item)` started and their worker died."""
    for _ in range(times):
        count_delivery(delivery_key(bounded_work.name, (item,), {}))


def test_counts_deliveries_until_one_finishes():
    key = delivery_key("some.task", (7,), {})
    cache.delete(key)
    assert [count_delivery(key) for _ in range(3)] == [1, 2, 3]
    delivery_finished(key)
    assert count_delivery(key) == 1
    delivery_finished(key)


def test_the_same_work_shares_a_count_whatever_the_task_id_and_other_work_does_not():
    assert delivery_key("t", (1,), {}) == delivery_key("t", [1], {})
    assert delivery_key("t", (1,), {}) != delivery_key("t", (2,), {})
    assert delivery_key("t", (1,), {}) != delivery_key("u", (1,), {})
    assert delivery_key("t", (), {"a": 1, "b": 2}) == delivery_key("t", (), {"b": 2, "a": 1})


def test_over_the_limit_only_past_it_and_never_when_the_count_is_unknown():
    assert [over_limit(count, 3) for count in (1, 3, 4)] == [False, False, True]
    assert not over_limit(None, 3)


def test_work_whose_worker_died_fewer_times_than_the_limit_runs_and_clears_its_count():
    die(1, 2)
    assert bounded_work(1) == 2  # the third delivery
    assert RAN == [1]
    assert count_delivery(delivery_key(bounded_work.name, (1,), {})) == 1  # cleared, counting again


def test_work_whose_worker_died_at_every_delivery_is_dropped_and_logged(caplog):
    die(1, 3)
    with caplog.at_level(logging.ERROR, logger=deliveries.__name__):
        assert bounded_work(1) is None
        assert bounded_work(1) is None  # and stays dropped (until the count expires)
    assert RAN == []
    assert "Dropping task tests.bounded_work(1,): delivered 4 times" in caplog.text
    assert bounded_work(2) == 4  # other work runs
    assert RAN == [2]


def test_a_failing_delivery_is_not_a_dying_one():
    @shared_task(name="tests.bounded_failure", base=BoundedDeliveryTask, max_deliveries=1)
    def failing():
        raise ValueError("bad input")

    key = delivery_key(failing.name, (), {})
    cache.delete(key)
    for _ in range(3):  # each ends (with an error): none counts against the next
        with pytest.raises(ValueError):
            failing()
    assert count_delivery(key) == 1
    delivery_finished(key)


@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
)
def test_with_the_cache_down_the_task_runs_uncounted(caplog):
    with caplog.at_level(logging.WARNING, logger=deliveries.__name__):
        assert bounded_work(2) == 4
    assert RAN == [2]
    assert "running it uncounted" in caplog.text


def test_rollup_tasks_are_bounded_and_have_time_limits(settings):
    from twinning.celery import app

    assert app.conf.task_soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT == 300
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT == 360
    assert settings.CELERY_TASK_MAX_DELIVERIES == 5
    for task in (tasks.recompute_indicator_rollups, tasks.recompute_alignment, tasks.requeue_stale):
        assert isinstance(task, BoundedDeliveryTask), task.name
        assert task.acks_late and task.reject_on_worker_lost
    assert tasks.reconcile_rollups.soft_time_limit == 30 * 60
    assert tasks.reconcile_rollups.time_limit < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert tasks.requeue_stale.time_limit == 60
