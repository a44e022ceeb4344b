"""`reporting_due_days` on programmes (docs/design.md §6 programmes/): 30 unless set, through the
services and the API, and bounded."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from projects.services import programme_create, programme_update
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_due_days_default_to_thirty_and_can_change():
    programme = programme_create(code="DUE", name_en="Due", start_date="2025-01-01", end_date="2025-12-31")
    assert programme.reporting_due_days == 30
    programme_update(programme=programme, reporting_due_days=45)
    programme.refresh_from_db()
    assert programme.reporting_due_days == 45
    with pytest.raises(ValidationError) as error:
        programme_update(programme=programme, reporting_due_days=400)
    assert "reporting_due_days" in error.value.message_dict or "366" in str(error.value)


def test_the_api_reads_and_writes_reporting_due_days(settings):
    settings.ROOT_URLCONF = "tests.api.urls"
    client = APIClient()
    client.force_authenticate(f.UserFactory(is_superuser=True))
    created = client.post(
        "/api/v1/programmes/",
        {"code": "API-DUE", "name_en": "Due", "start_date": "2025-01-01", "end_date": "2025-12-31"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["reporting_due_days"] == 30
    url = f"/api/v1/programmes/{created.json()['id']}/"
    assert client.patch(url, {"reporting_due_days": 10}, format="json").json()["reporting_due_days"] == 10
    refused = client.patch(url, {"reporting_due_days": -1}, format="json")
    assert refused.status_code == 400 and "reporting_due_days" in refused.json()
