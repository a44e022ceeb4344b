"""Deleting an indicator or a national target entered by mistake: allowed to those who keep it,
refused (400, nothing deleted) while reported results or other programmes' alignments depend on it."""

import pytest

from indicators.models import Alignment, Indicator, NationalTarget, Result, Target
from rollups.queue import alignment_pending
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def spare_indicator(world):
    """An indicator of P1 with a target and an alignment but no results."""
    indicator = f.IndicatorFactory(programme=world.programmes["p1"])
    f.TargetFactory(indicator=indicator)
    f.AlignmentFactory(indicator=indicator, national_target=world.national_target)
    return indicator


def test_the_programme_editor_deletes_an_indicator_without_results(world, client_for, spare_indicator):
    response = client_for("implementer_editor").delete(f"/api/v1/indicators/{spare_indicator.pk}/")
    assert response.status_code == 204
    assert not Indicator.objects.filter(pk=spare_indicator.pk).exists()
    assert not Target.objects.filter(indicator_id=spare_indicator.pk).exists()
    assert not Alignment.objects.filter(indicator_id=spare_indicator.pk).exists()
    assert alignment_pending()  # the report counted it towards NT-1


def test_an_indicator_with_results_is_not_deleted(world, client_for):
    indicator = world.indicators["p1"]
    results = Result.objects.filter(indicator=indicator).count()
    response = client_for("implementer_editor").delete(f"/api/v1/indicators/{indicator.pk}/")
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == [
        f"This indicator has {results} results. Delete them first; approved results must be reopened "
        "by an approver before they can be deleted."
    ]
    assert Result.objects.filter(indicator=indicator).count() == results
    arabic = client_for("implementer_editor").delete(f"/api/v1/indicators/{indicator.pk}/", HTTP_ACCEPT_LANGUAGE="ar")
    assert arabic.status_code == 400 and "النتائج" in arabic.json()["non_field_errors"][0]


@pytest.mark.parametrize(("role", "status"), [("municipality_x_editor", 403), ("donor_a_viewer", 403), (None, 401)])
def test_only_the_programme_editors_delete_its_indicators(world, client_for, spare_indicator, role, status):
    response = client_for(role).delete(f"/api/v1/indicators/{spare_indicator.pk}/")
    assert response.status_code == status
    assert Indicator.objects.filter(pk=spare_indicator.pk).exists()


def test_the_ministry_deletes_a_national_target_nothing_is_aligned_to(world, client_for):
    unused = f.NationalTargetFactory(owner=world.orgs["ministry"])
    assert client_for("ministry_viewer").delete(f"/api/v1/national-targets/{unused.pk}/").status_code == 403
    assert client_for("implementer_editor").delete(f"/api/v1/national-targets/{unused.pk}/").status_code == 403
    assert client_for("ministry_approver").delete(f"/api/v1/national-targets/{unused.pk}/").status_code == 204
    assert not NationalTarget.objects.filter(pk=unused.pk).exists()
    assert alignment_pending()  # it was listed as a gap


def test_a_national_target_with_aligned_indicators_is_not_deleted(world, client_for):
    target = world.national_target
    response = client_for("ministry_approver").delete(f"/api/v1/national-targets/{target.pk}/")
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == [
        "2 indicators are aligned to this national target. Remove those alignments first."
    ]
    assert Alignment.objects.filter(national_target=target).count() == 2
