"""`seed_demo` fills the registry: the demo IATI file, the programmes, and a real candidate to
review (GIZ's local revenue work in Ghadames against Taqarub's)."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from registry.models import IatiImport, Intervention, InterventionLocation, OverlapCandidate


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", "--skip-rollups", "--demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return seeded


def test_the_demo_has_a_real_candidate_to_review(demo):
    taqarub = Intervention.objects.get(programme__code="TAQARUB")
    giz = Intervention.objects.get(iati_identifier="XM-DAC-5-7-DEMO-LBY-REVENUE")
    assert giz.reporting_org.iati_ref == "XM-DAC-5-7" and giz.title_ar == "تنمية الإيرادات المحلية في بلدية غدامس"
    pair = OverlapCandidate.objects.get(intervention_a=taqarub, intervention_b=giz)
    assert pair.status == "open" and pair.score >= 60
    assert {"same_municipality", "same_theme", "same_sector", "dates_overlap", "similar_title"} <= set(pair.reasons)
    assert InterventionLocation.objects.get(name="Ubari").municipality is None
    record = IatiImport.objects.get()
    assert (record.activities_created, record.activities_skipped, record.errors) == (4, 1, [])
    zuwarah = InterventionLocation.objects.get(name="Zuwarah")
    assert zuwarah.municipality.name_en == "Zuwara"


def test_a_second_run_adds_nothing_to_the_registry(demo):
    counts = (Intervention.objects.count(), OverlapCandidate.objects.count(), IatiImport.objects.count())
    out = io.StringIO()
    call_command("seed_demo", "--skip-rollups", "--demo", stdout=out)
    assert "Created: nothing." in out.getvalue() and "Updated: nothing." in out.getvalue()
    assert (Intervention.objects.count(), OverlapCandidate.objects.count(), IatiImport.objects.count()) == counts
