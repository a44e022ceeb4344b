"""Requests no client should send still get a JSON answer that says what is wrong, never a 500
or an HTML page."""

import pytest

pytestmark = pytest.mark.django_db


def test_deeply_nested_json_is_a_json_400(world, client_for):
    body = "[" * 100_000 + "]" * 100_000
    response = client_for("implementer_editor").generic(
        "POST", "/api/v1/results/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "nested" in response.json()["detail"]


def test_a_body_over_the_limit_is_a_json_413(world, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"comment": "' + "x" * 5000 + '"}'
    response = client_for("implementer_editor").generic(
        "POST", "/api/v1/results/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "1000" in response.json()["detail"] or "large" in response.json()["detail"]


def test_too_many_form_fields_is_a_json_400(world, client_for, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=1" for i in range(50))
    response = client_for("implementer_editor").generic(
        "POST", "/api/v1/results/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
