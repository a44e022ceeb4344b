"""The offline XLSX round-trip: download pre-filled, fill with openpyxl, upload all or nothing."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from indicators.models import Result
from indicators.services import result_update
from tests.roles import Q2
from web.spreadsheets import FIRST_DATA_ROW, KEYS

pytestmark = pytest.mark.django_db


def download(client, world, language="en"):
    p1, x = world.programmes["p1"], world.orgs["x"]
    response = client.get(
        f"/{language}/results/spreadsheet/",
        {"programme": p1.pk, "municipality": x.pk, "on": Q2[0].isoformat(), "download": "1"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def rows(sheet):
    for row in range(FIRST_DATA_ROW, sheet.max_row + 1):
        yield row, {key: sheet.cell(row, i + 1).value for i, key in enumerate(KEYS)}


def column(key):
    return KEYS.index(key) + 1


def upload(client, workbook, status="draft", name="results.xlsx"):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return client.post(
        reverse("spreadsheet"),
        {"file": SimpleUploadedFile(name, buffer.getvalue()), "status": status},
    )


def test_download_is_prefilled_locked_and_in_the_page_language(world, client_for):
    workbook = download(client_for("municipality_x_editor"), world, language="ar")
    sheet = workbook.worksheets[0]
    assert sheet.sheet_view.rightToLeft
    assert sheet.protection.sheet
    assert sheet.column_dimensions["A"].hidden
    found = {(v["category"] or "", v["option"] or ""): v for _row, v in rows(sheet)}
    assert found[("", "")]["value"] == 3  # the existing draft
    assert found[("", "")]["result_id"] == world.results["x_draft"].pk
    assert ("sex", "female") in found
    assert workbook.sheetnames[1] != "Instructions"  # translated sheet name


def test_round_trip_creates_updates_and_submits(world, client_for):
    client = client_for("municipality_x_editor")
    workbook = download(client, world)
    sheet = workbook.worksheets[0]
    for row, values in rows(sheet):
        if values["category"] in (None, "") and values["indicator_code"] == "P1-1":
            sheet.cell(row, column("value"), 25)
        elif values["option"] == "female":
            sheet.cell(row, column("value"), 10)
            comment = sheet.cell(row, column("comment"), '=HYPERLINK("http://evil")')
            comment.data_type = "s"  # typed as text, as a spreadsheet stores a quoted entry
        elif values["option"] == "male":
            sheet.cell(row, column("value"), "15")
    response = upload(client, workbook, status="submitted")
    assert response.status_code == 302, response.content.decode()[:2000]
    found = {
        (r.disaggregation_category, r.disaggregation_option): r
        for r in Result.objects.filter(
            indicator=world.indicators["p1"], municipality=world.orgs["x"], period_start=Q2[0]
        )
    }
    assert found[("", "")].value == Decimal("25")
    assert found[("sex", "female")].value == Decimal("10")
    assert found[("sex", "male")].value == Decimal("15")
    assert {r.status for r in found.values()} == {Result.Status.SUBMITTED}
    # A comment that looks like a formula is stored as text and escaped when exported again.
    again = download(client, world).worksheets[0]
    comments = [v["comment"] for _row, v in rows(again) if v["option"] == "female"]
    assert comments == ['\'=HYPERLINK("http://evil")']


def test_any_error_saves_nothing_and_lists_sheet_row_column_reason(world, client_for):
    client = client_for("municipality_x_editor")
    workbook = download(client, world)
    sheet = workbook.worksheets[0]
    bad_row = None
    for row, values in rows(sheet):
        if values["category"] in (None, ""):
            sheet.cell(row, column("value"), 50)
        elif values["option"] == "male":
            sheet.cell(row, column("value"), "lots")
            bad_row = row
    response = upload(client, workbook)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="import-errors"' in html
    assert f'<td class="num">{bad_row}</td>' in html
    assert "Enter a number" in html
    assert sheet.title in html
    assert Result.objects.get(pk=world.results["x_draft"].pk).value == Decimal("3")
    assert not Result.objects.filter(disaggregation_option="male").exists()


def test_uploads_are_refused_safely(world, client_for):
    client = client_for("municipality_x_editor")
    not_zip = client.post(reverse("spreadsheet"), {"file": SimpleUploadedFile("x.xlsx", b"hello"), "status": "draft"})
    assert not_zip.status_code == 400
    assert "not an Excel workbook" in not_zip.content.decode()
    wrong_type = client.post(reverse("spreadsheet"), {"file": SimpleUploadedFile("x.csv", b"a,b"), "status": "draft"})
    assert "Upload an Excel workbook" in wrong_type.content.decode()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", b"0" * (60 * 1024 * 1024))
    response = client.post(
        reverse("spreadsheet"), {"file": SimpleUploadedFile("bomb.xlsx", bomb.getvalue()), "status": "draft"}
    )
    assert "too large once unpacked" in response.content.decode()
    assert Result.objects.count() == 4


def test_a_sheet_for_another_municipality_is_refused(world, client_for):
    workbook = download(client_for("municipality_x_editor"), world)
    sheet = workbook.worksheets[0]
    for row, values in rows(sheet):
        if values["category"] in (None, ""):
            sheet.cell(row, column("value"), 50)
    response = upload(client_for("municipality_y_editor"), workbook)
    assert response.status_code == 400
    assert "You may not enter results" in response.content.decode()
    assert Result.objects.get(pk=world.results["x_draft"].pk).value == Decimal("3")


def test_download_survives_a_stored_control_character(world, client_for):
    """A name saved before control characters were refused once made every download a 500."""
    from indicators.models import Indicator

    Indicator.objects.filter(programme=world.programmes["p1"]).update(name_en="Trained\x0b people\x07")
    workbook = download(client_for("municipality_x_editor"), world)
    names = [cell.value for row in workbook.worksheets[0].iter_rows() for cell in row if cell.value]
    assert "Trained people" in names


def test_the_same_file_uploaded_twice_saves_once_then_changes_nothing(world, client_for):
    client = client_for("municipality_x_editor")
    workbook = download(client, world)
    sheet = workbook.worksheets[0]
    for row, values in rows(sheet):
        if values["category"] in (None, "") and values["indicator_code"] == "P1-1":
            sheet.cell(row, column("value"), 25)  # the stored draft, version 1
        elif values["option"] == "female":
            sheet.cell(row, column("value"), 10)  # a result the file creates
    assert upload(client, workbook).status_code == 302
    saved = {r.pk: (r.version, r.value, r.updated_at) for r in Result.objects.all()}
    histories = Result.history.count()

    response = upload(client, workbook)

    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"]).content.decode()
    assert "Nothing changed: every row of the file is as stored." in page
    assert "someone else" not in page
    assert {r.pk: (r.version, r.value, r.updated_at) for r in Result.objects.all()} == saved
    assert Result.history.count() == histories


def test_an_old_file_giving_another_value_for_a_result_changed_since_is_a_conflict(world, client_for):
    client = client_for("municipality_x_editor")
    workbook = download(client, world)  # the draft is at version 1, value 3
    draft = world.results["x_draft"]
    result_update(result=draft, user=world.users["implementer_editor"], value=Decimal(4))
    sheet = workbook.worksheets[0]
    conflict_row = None
    for row, values in rows(sheet):
        if values["result_id"] == draft.pk:
            sheet.cell(row, column("value"), 30)
            conflict_row = row
        elif values["option"] == "female":
            sheet.cell(row, column("value"), 10)

    response = upload(client, workbook)

    assert response.status_code == 400
    html = response.content.decode()
    assert f'<td class="num">{conflict_row}</td>' in html
    assert f"{get_column_letter(column('value'))} (Value)" in html
    assert "Download a fresh copy" in html
    assert "someone else" not in html
    assert Result.objects.get(pk=draft.pk).value == Decimal(4)
    assert not Result.objects.filter(disaggregation_option="female").exists()  # all or nothing
