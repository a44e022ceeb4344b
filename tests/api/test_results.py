"""Results: the workflow, versions, bulk entry, and bad input (docs/design.md §6, docs/api.md)."""

import pytest

from indicators.models import Result
from indicators.services import MAX_BULK_RESULTS
from rollups.models import IndicatorRollupState, RollupCellRequest
from rollups.queue import pending_indicator_ids

pytestmark = pytest.mark.django_db

QUARTERS = [
    ("2025-07-01", "2025-09-30"),
    ("2025-10-01", "2025-12-31"),
    ("2026-01-01", "2026-03-31"),
    ("2026-04-01", "2026-06-30"),
]


def row(world, municipality="x", quarter=0, **extra):
    start, end = QUARTERS[quarter]
    return {
        "indicator": world.indicators["p1"].pk,
        "municipality": world.orgs[municipality].pk,
        "period_start": start,
        "period_end": end,
        "value": "12.5",
        **extra,
    }


def test_draft_submit_approve_lock_reopen(world, client_for):
    editor, approver = client_for("implementer_editor"), client_for("ministry_approver")
    response = editor.post("/api/v1/results/", row(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["version"] == 1 and body["value"] == "12.5000"
    assert body["disaggregation"] == {}
    assert response["ETag"] == '"1"'
    url = f"/api/v1/results/{body['id']}/"
    assert editor.post(url + "submit/", {}, format="json").json()["status"] == "submitted"
    response = approver.post(url + "return/", {}, format="json")
    assert response.status_code == 400 and "comment" in response.json()
    response = approver.post(url + "return/", {"comment": "Check the register"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "returned"
    assert response.json()["comment"] == "Check the register"
    assert editor.post(url + "submit/", {}, format="json").status_code == 200
    response = approver.post(url + "approve/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    version = response.json()["version"]
    response = editor.patch(url, {"value": "99"}, format="json")
    assert response.status_code == 409 and "locked" in response.json()["detail"]
    assert editor.delete(url).status_code == 409
    assert editor.post(url + "reopen/", {}, format="json").status_code == 403
    response = approver.post(url + "reopen/", {"version": version}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert editor.patch(url, {"value": "99"}, format="json").json()["value"] == "99.0000"
    assert editor.delete(url).status_code == 204


def test_stale_version_is_412_with_version_field_or_if_match(world, client_for):
    editor = client_for("implementer_editor")
    url = f"/api/v1/results/{world.results['x_draft'].pk}/"
    assert editor.get(url)["ETag"] == '"1"'
    assert editor.patch(url, {"value": "4", "version": 1}, format="json").status_code == 200
    response = editor.patch(url, {"value": "5", "version": 1}, format="json")
    assert response.status_code == 412
    assert response.json()["version"] == 2 and "changed by someone else" in response.json()["detail"]
    assert editor.patch(url, {"value": "5"}, format="json", HTTP_IF_MATCH='"1"').status_code == 412
    assert editor.patch(url, {"value": "5"}, format="json", HTTP_IF_MATCH='"2"').status_code == 200
    assert editor.post(url + "submit/", {}, format="json", HTTP_IF_MATCH='"2"').status_code == 412
    response = editor.patch(url, {"value": "5"}, format="json", HTTP_IF_MATCH="nonsense")
    assert response.status_code == 400 and "If-Match" in response.json()
    assert Result.objects.get(pk=world.results["x_draft"].pk).value == 5


def test_immutable_fields_and_status_cannot_be_patched(world, client_for):
    editor = client_for("implementer_editor")
    url = f"/api/v1/results/{world.results['x_draft'].pk}/"
    response = editor.patch(url, {"period_start": "2025-07-01", "status": "approved"}, format="json")
    assert response.status_code == 400 and {"period_start", "status"} <= set(response.json())


def test_bulk_creates_all_rows_and_schedules_rollups_per_cell_not_per_row(world, client_for):
    indicator = world.indicators["p1"]
    before = IndicatorRollupState.objects.filter(indicator=indicator).values_list("requested_version", flat=True)
    before = before.first() or 0
    drafts = [row(world, "x", q) for q in range(4)]
    response = client_for("implementer_editor").post("/api/v1/results/", drafts, format="json")
    assert response.status_code == 201, response.content
    assert not RollupCellRequest.objects.filter(indicator=indicator).exists()  # drafts move no number

    approved = [row(world, "y", q, status="approved") for q in range(4)]
    approved.append(row(world, "y", 0, disaggregation={"sex": "female"}, value="5", status="approved"))
    response = client_for("ministry_approver").post("/api/v1/results/", approved, format="json")
    assert response.status_code == 201, response.content
    assert len(response.json()) == 5
    assert Result.objects.filter(indicator=indicator, period_start__gte="2025-07-01").count() == 9
    requested = RollupCellRequest.objects.filter(indicator=indicator)
    assert sorted(requested.values_list("disaggregation_option", flat=True)) == ["", "female"]  # one per cell
    assert indicator.pk in pending_indicator_ids([indicator.pk])
    state = IndicatorRollupState.objects.filter(indicator=indicator).values_list("requested_version", flat=True)
    assert (state.first() or 0) == before  # no whole-indicator recompute for a handful of cells


def test_bulk_errors_come_back_per_row_and_nothing_is_written(world, client_for):
    rows = [row(world, "x", q) for q in range(4)]
    rows[1]["period_start"] = "2025-10-02"
    rows[2]["disaggregation"] = {"sex": "unknown"}
    rows[3]["value"] = "-3"
    count = Result.objects.count()
    response = client_for("implementer_editor").post("/api/v1/results/", rows, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert {(e["row"], e["field"]) for e in errors} == {(1, "period_start"), (2, "disaggregation"), (3, "value")}
    assert all(e["message"] for e in errors)
    assert Result.objects.count() == count


def test_bulk_type_errors_and_out_of_view_indicators(world, client_for):
    rows = [row(world), row(world, quarter=1, indicator=world.indicators["p2"].pk), {**row(world), "value": "abc"}]
    rows.append("not an object")
    response = client_for("municipality_x_editor").post("/api/v1/results/", rows, format="json")
    assert response.status_code == 400
    fields = {(e["row"], e["field"]) for e in response.json()}
    assert (2, "value") in fields and (3, "non_field_errors") in fields
    rows = [row(world), row(world, quarter=1, indicator=world.indicators["p2"].pk)]
    response = client_for("municipality_x_editor").post("/api/v1/results/", rows, format="json")
    assert response.status_code == 400 and response.json() == [
        {"row": 1, "field": "indicator", "message": "Unknown indicator."}
    ]
    rows = [row(world), row(world, "y", 1)]
    response = client_for("municipality_x_editor").post("/api/v1/results/", rows, format="json")
    assert response.status_code == 403 and response.json()[0]["row"] == 1
    assert not Result.objects.filter(period_start="2025-07-01").exists()


def test_bulk_over_the_limit_is_413(world, client_for):
    rows = [row(world)] * (MAX_BULK_RESULTS + 1)
    response = client_for("implementer_editor").post("/api/v1/results/", rows, format="json")
    assert response.status_code == 413
    assert "10000" in response.json()["detail"].replace(",", "")
    assert not Result.objects.filter(period_start="2025-07-01").exists()


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"value": "twelve"}, "value", 400),
        ({"value": "1e400"}, "value", 400),
        ({"value": "123456789012345678901234"}, "value", 400),
        ({"indicator": "abc"}, "indicator", 400),
        ({"indicator": 999999}, "indicator", 400),
        ({"municipality": 999999}, "municipality", 400),
        ({"period_start": "2025-07-02"}, "period_start", 400),
        ({"period_start": "01/07/2025"}, "period_start", 400),
        ({"period_end": "2025-06-30"}, "period_end", 400),
        ({"disaggregation": {"sex": "other"}}, "disaggregation", 400),
        ({"disaggregation": {"age": "youth"}}, "disaggregation", 400),
        ({"disaggregation": "sex"}, "disaggregation", 400),
        ({"comment": "x" * 30_000}, "comment", 400),
        ({"evidence_url": "not a url"}, "evidence_url", 400),
        ({"status": "returned"}, "status", 400),
        ({"numerator": "1", "denominator": "2"}, "numerator", 400),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, client_for, change, field, code):
    count = Result.objects.count()
    response = client_for("implementer_editor").post("/api/v1/results/", {**row(world), **change}, format="json")
    assert response.status_code == code, response.content
    assert field in response.json(), response.json()
    assert Result.objects.count() == count


def test_out_of_view_indicator_reads_as_unknown(world, client_for):
    payload = row(world, indicator=world.indicators["p2"].pk)
    response = client_for("implementer_editor").post("/api/v1/results/", payload, format="json")
    assert response.status_code == 400 and "indicator" in response.json()


def test_negative_denominator_on_a_percentage_indicator(world, client_for):
    indicator = world.indicators["p1"]
    indicator.measure = "percentage"
    indicator.save()
    payload = row(world, numerator="3", denominator="-4")
    payload.pop("value")
    response = client_for("implementer_editor").post("/api/v1/results/", payload, format="json")
    assert response.status_code == 400 and "denominator" in response.json()


def test_malformed_json_is_400(world, client_for):
    response = client_for("implementer_editor").post(
        "/api/v1/results/", data='{"indicator": 1,', content_type="application/json"
    )
    assert response.status_code == 400 and "detail" in response.json()


def test_filters_on_status_period_and_disaggregation(world, client_for):
    client = client_for("ministry_viewer")
    assert client.get("/api/v1/results/", {"status": "draft"}).json()["count"] == 1
    assert client.get("/api/v1/results/", {"period_start": "2025-04-01"}).json()["count"] == 1
    assert client.get("/api/v1/results/", {"disaggregation": "total"}).json()["count"] == 4
    assert client.get("/api/v1/results/", {"disaggregation": "sex:female"}).json()["count"] == 0
    assert client.get("/api/v1/results/", {"period_start": "not-a-date"}).status_code == 400
    assert client.get("/api/v1/results/", {"municipality": world.orgs["z"].pk}).json()["count"] == 1
    rollups = client.get("/api/v1/rollups/", {"scope": "programme", "lop": "true"}).json()
    assert rollups["count"] == 2 and all(r["period_start"] is None for r in rollups["results"])
    assert client.get("/api/v1/rollups/", {"scope": "galaxy"}).status_code == 400


def test_results_page_by_cursor(world, client_for):
    client = client_for("ministry_viewer")
    first = client.get("/api/v1/results/", {"page_size": 2}).json()
    assert first["count"] == 4 and len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert ids == sorted(ids) and len(set(ids)) == 4


def test_results_page_by_cursor_with_ordering(world, client_for):
    client = client_for("ministry_viewer")
    page = client.get("/api/v1/results/", {"page_size": 1, "ordering": "-period_start"}).json()
    seen = []
    while True:
        seen += [(r["period_start"], r["id"]) for r in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert len(seen) == 4 and len({i for _d, i in seen}) == 4
    assert [d for d, _i in seen] == sorted((d for d, _i in seen), reverse=True)


def test_a_list_sent_again_writes_nothing_and_a_row_that_differs_is_refused(world, client_for):
    client = client_for("implementer_editor")
    rows = [row(world, "x", q) for q in range(2)]
    first = client.post("/api/v1/results/", rows, format="json")
    assert first.status_code == 201, first.content
    histories = Result.history.count()

    again = client.post("/api/v1/results/", rows, format="json")

    assert again.status_code == 200, again.content
    assert [(r["id"], r["version"]) for r in again.json()] == [(r["id"], 1) for r in first.json()]
    assert Result.history.count() == histories
    rows[1]["value"] = "13"
    changed = client.post("/api/v1/results/", rows, format="json")
    assert changed.status_code == 400
    assert changed.json() == [
        {
            "row": 1,
            "field": "non_field_errors",
            "message": "A result for this indicator, period, municipality and disaggregation already exists.",
        }
    ]
    assert Result.history.count() == histories


def test_a_bulk_request_has_one_status(world, client_for):
    rows = [row(world, "x", 0, status="submitted"), row(world, "x", 1)]
    response = client_for("implementer_editor").post("/api/v1/results/", rows, format="json")
    assert response.status_code == 400
    assert [(e["row"], e["field"]) for e in response.json()] == [(1, "status")]
    assert "share one status" in response.json()[0]["message"]
    assert not Result.objects.filter(period_start="2025-07-01").exists()
