"""Downloads survive what is already stored: control characters in names written before they were
refused, and codes that would break a Content-Disposition header."""

import pytest
from django.core.exceptions import ValidationError
from lxml import etree

from indicators.models import Indicator
from projects import services as project_services
from projects.models import Programme

pytestmark = pytest.mark.django_db


def test_iati_export_survives_a_stored_control_character(world, client_for):
    Indicator.objects.filter(pk=world.indicators["p1"].pk).update(name_en="Trained\x0b people\x07")
    Programme.objects.filter(pk=world.programmes["p1"].pk).update(name_en="Taqarub\x1b")
    response = client_for("donor_a_viewer").get("/api/v1/exports/iati/", {"programme": world.programmes["p1"].pk})
    assert response.status_code == 200
    document = etree.fromstring(response.content)
    assert document.find("iati-activity/title/narrative").text == "Taqarub"


@pytest.mark.parametrize("code", ['P1"; filename="evil.exe', "P1\r\nSet-Cookie: a=b", "P 1", "P1/../x"])
def test_a_programme_code_is_letters_digits_hyphens_and_underscores(world, code):
    with pytest.raises(ValidationError) as caught:
        project_services.programme_update(programme=world.programmes["p1"], code=code)
    assert "code" in caught.value.message_dict


def test_download_names_are_built_safely_even_for_a_stored_odd_code(world, client_for):
    Programme.objects.filter(pk=world.programmes["p1"].pk).update(code='P1";x')
    response = client_for("donor_a_viewer").get(
        "/api/v1/reports/iptt/", {"programme": world.programmes["p1"].pk, "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="iptt-P1\\";x.csv"'


def test_an_arabic_code_gives_an_encoded_file_name(world, client_for):
    project_services.programme_update(programme=world.programmes["p1"], code="تقارب-1")
    response = client_for("donor_a_viewer").get("/api/v1/exports/iati/", {"programme": world.programmes["p1"].pk})
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''iati-%D8%AA%D9%82%D8%A7%D8%B1%D8%A8-1.xml"


def test_iptt_xlsx_survives_a_stored_control_character(world, client_for):
    from io import BytesIO

    from openpyxl import load_workbook

    Indicator.objects.filter(pk=world.indicators["p1"].pk).update(name_en="Trained\x0b people\x07")
    response = client_for("donor_a_viewer").get(
        "/api/v1/reports/iptt/", {"programme": world.programmes["p1"].pk, "format": "xlsx"}
    )
    assert response.status_code == 200
    cells = [cell.value for row in load_workbook(BytesIO(response.content)).active.iter_rows() for cell in row]
    assert "Trained people" in cells
