"""What a result may hold and who may review it, through the REST API (docs/design.md §4, §6, §7)."""

import pytest

from indicators.models import Result

pytestmark = pytest.mark.django_db

QUARTER = ("2025-07-01", "2025-09-30")


def row(world, **extra):
    return {
        "indicator": world.indicators["p1"].pk,
        "municipality": world.orgs["x"].pk,
        "period_start": QUARTER[0],
        "period_end": QUARTER[1],
        "value": "12.5",
        **extra,
    }


def test_a_value_with_more_than_twelve_digits_is_a_400_naming_the_field(world, client_for):
    editor = client_for("implementer_editor")
    count = Result.objects.count()
    response = editor.post("/api/v1/results/", row(world, value="9999999999999"), format="json")
    assert response.status_code == 400 and "12 digits" in response.json()["value"][0]
    response = editor.post("/api/v1/results/", [row(world, value="1.1234567")], format="json")
    assert response.status_code == 400 and response.json()[0]["field"] == "value"
    url = f"/api/v1/results/{world.results['x_draft'].pk}/"
    response = editor.patch(url, {"value": "99999999999999999999"}, format="json")
    assert response.status_code == 400 and "value" in response.json()
    assert Result.objects.count() == count


def test_decimals_show_six_places(world, client_for):
    response = client_for("implementer_editor").post("/api/v1/results/", row(world), format="json")
    assert response.status_code == 201 and response.json()["value"] == "12.500000"


def test_indicators_carry_their_plausible_range_and_results_outside_it_are_400(world, client_for):
    editor = client_for("implementer_editor")
    url = f"/api/v1/indicators/{world.indicators['p1'].pk}/"
    response = editor.patch(url, {"value_min": "1", "value_max": "5", "whole_numbers": True}, format="json")
    assert response.status_code == 200, response.content
    body = editor.get(url).json()
    assert (body["value_min"], body["value_max"], body["whole_numbers"]) == ("1.000000", "5.000000", True)
    response = editor.post("/api/v1/results/", row(world, value="7"), format="json")
    assert response.status_code == 400 and response.json()["value"] == ["Enter a value between 1 and 5."]
    response = editor.post("/api/v1/results/", [row(world, value="2.5")], format="json")
    assert response.status_code == 400 and response.json()[0]["field"] == "value"
    assert "whole number" in response.json()[0]["message"]
