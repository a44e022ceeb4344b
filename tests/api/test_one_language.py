"""A name or title in one language is enough through the API; with neither, a 400 names both
language fields. `name` is read in the request's language, falling back to the other one."""

import pytest

from indicators.models import Indicator, NationalTarget
from partners.models import Organisation
from projects.models import Activity
from rollups.alignment import force_global_snapshot
from rollups.engine import recompute_indicators

API = "/api/v1/"


def test_an_editor_logs_an_activity_with_only_an_arabic_title(world, client_for):
    client = client_for("implementer_editor")
    body = {
        "workstream": world.workstreams["p1"].pk,
        "kind": "workshop",
        "title": "ورشة عمل حول الإيرادات المحلية",
        "start_date": "2025-05-01",
        "end_date": "2025-05-02",
        "municipality": world.orgs["x"].pk,
    }
    response = client.post(f"{API}activities/", body, format="json", HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 201, response.json()
    activity = Activity.objects.get(pk=response.json()["id"])
    assert (activity.title_en, activity.title_ar) == ("", "ورشة عمل حول الإيرادات المحلية")
    listed = client.get(f"{API}activities/", {"workstream": world.workstreams["p1"].pk}, HTTP_ACCEPT_LANGUAGE="en")
    row = next(row for row in listed.json()["results"] if row["id"] == activity.pk)
    assert row["title"] == "ورشة عمل حول الإيرادات المحلية"  # English asked, Arabic given: shown
    assert (row["title_en"], row["title_ar"]) == ("", "ورشة عمل حول الإيرادات المحلية")


@pytest.mark.parametrize(
    ("resource", "body", "model", "field"),
    [
        ("organisations/", {"kind": "municipality", "country": "LY", "name_ar": "غات"}, Organisation, "name"),
        ("national-targets/", {"code": "NT-AR", "title_ar": "تحسين الخدمات البلدية"}, NationalTarget, "title"),
        ("indicators/", {"code": "AR-1", "name_ar": "عدد الموظفين المدربين"}, Indicator, "name"),
    ],
)
def test_created_with_only_arabic_names(world, client_for, resource, body, model, field):
    if resource == "indicators/":
        body = {**body, "programme": world.programmes["p1"].pk, "level": "output", "measure": "number"}
    response = client_for("superuser").post(f"{API}{resource}", body, format="json")
    assert response.status_code == 201, response.json()
    arabic = body[f"{field}_ar"]
    stored = model.objects.get(pk=response.json()["id"])
    assert (getattr(stored, f"{field}_en"), getattr(stored, f"{field}_ar")) == ("", arabic)
    assert response.json()[field] == arabic


@pytest.mark.parametrize(
    ("resource", "body", "field", "message"),
    [
        (
            "organisations/",
            {"kind": "municipality", "country": "LY", "name_en": " ", "name_ar": ""},
            "name",
            "Enter the name in English or in Arabic.",
        ),
        ("national-targets/", {"code": "NT-NONE"}, "title", "Enter the title in English or in Arabic."),
        ("activities/", {"kind": "workshop", "title_ar": ""}, "title", "Enter the title in English or in Arabic."),
    ],
)
def test_neither_language_is_a_400_naming_both_fields(world, client_for, resource, body, field, message):
    model = {"organisations/": Organisation, "national-targets/": NationalTarget, "activities/": Activity}[resource]
    if resource == "activities/":
        body = {**body, "workstream": world.workstreams["p1"].pk, "start_date": "2025-05-01", "end_date": "2025-05-02"}
    before = model.objects.count()
    response = client_for("superuser").post(f"{API}{resource}", body, format="json")
    assert response.status_code == 400
    assert response.json() == {f"{field}_en": [message], f"{field}_ar": [message]}
    assert model.objects.count() == before


def test_clearing_the_only_language_of_a_name_is_refused(world, client_for):
    organisation = world.orgs["x"]  # Ghadames, غدامس
    client = client_for("superuser")
    response = client.patch(f"{API}organisations/{organisation.pk}/", {"name_en": ""}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "غدامس"
    response = client.patch(f"{API}organisations/{organisation.pk}/", {"name_ar": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name_en", "name_ar"}
    organisation.refresh_from_db()
    assert organisation.name_ar == "غدامس"


def test_the_iptt_and_alignment_report_in_english_carry_arabic_only_names(world, client_for):
    client = client_for("superuser")
    programme = world.programmes["p1"]
    indicator = client.post(
        f"{API}indicators/",
        {"programme": programme.pk, "code": "AR-2", "name_ar": "نسبة الشكاوى المعالجة", "level": "output"},
        format="json",
    ).json()
    target = client.post(f"{API}national-targets/", {"code": "NT-AR2", "title_ar": "خدمات أفضل"}, format="json").json()
    response = client.post(
        f"{API}alignments/", {"indicator": indicator["id"], "national_target": target["id"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    recompute_indicators([indicator["id"]])
    force_global_snapshot()

    iptt = client.get(f"{API}reports/iptt/", {"programme": programme.pk}, HTTP_ACCEPT_LANGUAGE="en").json()
    row = next(row for row in iptt["rows"] if row["indicator"] == indicator["id"])
    assert row["name"] == "نسبة الشكاوى المعالجة"
    report = client.get(f"{API}reports/alignment/", HTTP_ACCEPT_LANGUAGE="en").json()
    listed = next(row for row in report["national_targets"] if row["id"] == target["id"])
    assert listed["title"] == "خدمات أفضل"
    assert indicator["id"] in listed["indicators"] + listed["not_measurable"]
