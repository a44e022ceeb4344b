"""The registry with a real Celery worker (subprocess) and real Redis, no eager mode: a
programme saved and an IATI file imported reach the registry and the detector through the
worker. The worker listens on the test's own queue."""

import datetime
import uuid

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from projects import services as project_services
from registry.models import Intervention, OverlapCandidate
from tests.rollups.test_worker_rollups import Worker, wait_for

from .conftest import activity, run_import

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registry_queue(monkeypatch):
    name = f"registry-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("CELERY_REGISTRY_QUEUE", name)
    with override_settings(CELERY_REGISTRY_QUEUE=name):
        yield name
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(
        name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}"
    )


@pytest.fixture
def worker(registry_queue, tmp_path):
    started = Worker(registry_queue, tmp_path / "worker.log").start()
    yield started
    started.kill()


def test_the_worker_keeps_the_registry_current(places, worker):
    from partners.models import Organisation

    donor = Organisation.objects.create(kind="donor", name_en="Donor W", country="US")
    programme = project_services.programme_create(
        code="P-WORKER",
        name_en="Local revenue development",
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2026, 12, 31),
        donors=[donor],
    )
    project_services.workstream_create(
        programme=programme,
        theme=places["themes"]["local-revenue"],
        name_en="Fees and charges",
        municipalities=[places["municipalities"]["ghadames"]],
    )
    intervention = wait_for(
        lambda: Intervention.objects.filter(programme=programme, municipalities__isnull=False).first(),
        "the worker to register the programme",
    )
    run_import(activity("XM-WORKER", title_en="Local revenue development in Ghadames"))
    candidate = wait_for(
        lambda: (
            OverlapCandidate.objects.filter(intervention_a=intervention).first()
            or OverlapCandidate.objects.filter(intervention_b=intervention).first()
        ),
        "the worker to run the detector",
    )
    assert "similar_title" in candidate.reasons and candidate.status == "open"
