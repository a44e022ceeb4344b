"""The IPTT files speak the language of the request: the Direction column says what is better in
words, and an Arabic workbook reads from the right."""

import csv
import io

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def download(client, programme, output, language):
    response = client.get(
        "/api/v1/reports/iptt/", {"programme": programme.pk, "format": output}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize(("language", "label"), [("ar", "الزيادة أفضل"), ("en", "Increase is better")])
def test_the_direction_column_is_words_in_the_request_language(world, client_for, language, label):
    client = client_for("donor_a_viewer")
    sheet = load_workbook(io.BytesIO(download(client, world.programmes["p1"], "xlsx", language))).active
    header = [cell.value for cell in sheet[1]]
    direction = [row[header.index("الاتجاه" if language == "ar" else "Direction")] for row in sheet.iter_rows(2)]
    assert [cell.value for cell in direction] == [label]
    rows = list(csv.reader(io.StringIO(download(client, world.programmes["p1"], "csv", language).decode("utf-8-sig"))))
    assert rows[1][3] == label


@pytest.mark.parametrize(("language", "rtl"), [("ar", True), ("en", False)])
def test_an_arabic_iptt_workbook_is_a_right_to_left_sheet(world, client_for, language, rtl):
    content = download(client_for("donor_a_viewer"), world.programmes["p1"], "xlsx", language)
    assert bool(load_workbook(io.BytesIO(content)).active.sheet_view.rightToLeft) is rtl
