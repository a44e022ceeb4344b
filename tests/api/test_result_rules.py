"""What a result may hold and who may review it, through the REST API (docs/design.md §4, §6, §7)."""

import pytest
from django.utils import timezone

from indicators import services
from indicators.models import Result
from partners.models import Membership

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


def future_quarter():
    year = timezone.localdate().year + 1
    return f"{year}-01-01", f"{year}-03-31"


def test_a_period_that_has_not_started_cannot_be_submitted(world, client_for):
    editor = client_for("implementer_editor")
    start, end = future_quarter()
    future = row(world, period_start=start, period_end=end)
    response = editor.post("/api/v1/results/", {**future, "status": "submitted"}, format="json")
    assert response.status_code == 400 and "has started" in response.json()["period_start"][0]
    response = editor.post("/api/v1/results/", [{**future, "status": "submitted"}], format="json")
    assert response.status_code == 400 and response.json()[0]["field"] == "period_start"
    response = editor.post("/api/v1/results/", future, format="json")
    assert response.status_code == 201
    response = editor.post(f"/api/v1/results/{response.json()['id']}/submit/", {}, format="json")
    assert response.status_code == 400 and "period_start" in response.json()


@pytest.mark.parametrize(("role", "expected"), [("ministry_approver", 403), ("superuser", 201)])
def test_approved_results_are_created_by_superusers_only(world, client_for, role, expected):
    response = client_for(role).post("/api/v1/results/", row(world, status="approved"), format="json")
    assert response.status_code == expected, response.content
    response = client_for(role).post("/api/v1/results/", [row(world, status="approved", value="13")], format="json")
    assert response.status_code == (403 if expected == 403 else 400)  # the superuser's cell exists now


def test_an_approver_cannot_approve_the_999999_they_entered_and_submitted(world, client_for):
    approver = world.users["implementer_editor"]
    Membership.objects.filter(user=approver).update(role=Membership.Role.APPROVER)
    client = client_for("implementer_editor")
    response = client.post("/api/v1/results/", row(world, value="999999"), format="json")
    assert response.status_code == 201, response.content
    url = f"/api/v1/results/{response.json()['id']}/"
    assert client.post(url + "submit/", {}, format="json").status_code == 200
    response = client.post(url + "approve/", {}, format="json")
    assert response.status_code == 403 and "no one reviews their own work" in response.json()["detail"]
    response = client.post(url + "return/", {"comment": "Mine"}, format="json")
    assert response.status_code == 403
    assert Result.objects.get(pk=url.split("/")[-2]).status == Result.Status.SUBMITTED
    assert client_for("ministry_approver").post(url + "approve/", {}, format="json").status_code == 200


def test_an_approver_cannot_approve_what_they_changed(world, client_for):
    draft = world.results["x_draft"]
    approver = world.users["ministry_approver"]
    services.result_update(result=draft, user=approver, value=draft.value + 1)
    services.result_submit(result=draft, user=world.users["municipality_x_editor"])
    response = client_for("ministry_approver").post(f"/api/v1/results/{draft.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    assert client_for("superuser").post(f"/api/v1/results/{draft.pk}/approve/", {}, format="json").status_code == 200


def test_a_submitted_result_answers_409_withdraw_it_first_until_withdrawn(world, client_for):
    editor = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    url = f"/api/v1/results/{draft.pk}/"
    assert editor.post(url + "submit/", {}, format="json").status_code == 200
    response = editor.patch(url, {"value": "4"}, format="json")
    assert response.status_code == 409 and "withdraw it first" in response.json()["detail"]
    body = {**row(world, value="4"), "period_start": "2025-04-01", "period_end": "2025-06-30"}
    assert editor.put(url, body, format="json").status_code == 409
    response = editor.post(url + "withdraw/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert editor.patch(url, {"value": "4"}, format="json").status_code == 200
    assert client_for("donor_a_viewer").post(url + "withdraw/", {}, format="json").status_code in (403, 404)
