"""How the registry hears that a programme changed (docs/architecture.md: `programme_scope_changed`
and Django's `post_save`), and that its work runs after commit in Celery, once per transaction."""

import datetime

import pytest
from django.db import transaction

from projects import services as project_services
from registry.models import Intervention, OverlapCandidate
from registry.queue import _Pending

from .conftest import activity, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Registry tasks run in-process when a write commits (the embedded default), restored after."""
    from twinning.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def registry_callbacks(callbacks) -> list:
    return [c for c in callbacks if getattr(c, "__self__", None).__class__ is _Pending]


def make_programme(places, **extra):
    from partners.models import Organisation

    donor = Organisation.objects.create(kind="donor", name_en="Donor P", country="US")
    programme = project_services.programme_create(
        code="P-REG",
        name_en="Local revenue development",
        name_ar="تنمية الإيرادات المحلية",
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2026, 12, 31),
        donors=[donor],
        **extra,
    )
    project_services.workstream_create(
        programme=programme,
        theme=places["themes"]["local-revenue"],
        name_en="Fees",
        municipalities=[places["municipalities"]["ghadames"]],
    )
    return programme


def test_programme_changes_reach_the_registry_after_commit(places, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_import(activity("XM-1", title_en="Local revenue development in Ghadames"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        programme = make_programme(places)
        assert not Intervention.objects.filter(programme=programme).exists()  # not before commit
    assert len(registry_callbacks(callbacks)) == 1  # one for the transaction, however many writes
    intervention = Intervention.objects.get(programme=programme)
    assert list(intervention.municipalities.all()) == [places["municipalities"]["ghadames"]]
    assert OverlapCandidate.objects.filter(intervention_b=intervention).exists()  # the detector ran too
    with django_capture_on_commit_callbacks(execute=True):
        project_services.programme_update(programme=programme, name_en="Municipal fees")
    intervention.refresh_from_db()
    assert intervention.title_en == "Municipal fees"


def test_a_rolled_back_change_schedules_nothing(places, django_capture_on_commit_callbacks):
    programme = make_programme(places)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        project_services.programme_update(programme=programme, name_en="Never")
        raise RuntimeError
    assert registry_callbacks(callbacks) == []


def test_an_import_schedules_the_detector_for_what_it_changed(places, django_capture_on_commit_callbacks, eager):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_import(activity("XM-1"), activity("XM-2", reporting_ref="XM-OTHER", reporting_name="Other"))
    [pending] = registry_callbacks(callbacks)
    assert sorted(pending.__self__.intervention_ids) == sorted(Intervention.objects.values_list("id", flat=True))
    assert OverlapCandidate.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_import(activity("XM-1"), activity("XM-2", reporting_ref="XM-OTHER", reporting_name="Other"))
    assert registry_callbacks(callbacks) == []  # nothing changed, nothing to detect
