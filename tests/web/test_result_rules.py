"""What a result may hold and who may review it, on the pages: the result grid, the offline
spreadsheet and the approval queue (docs/design.md §4, §7)."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from indicators import services
from indicators.models import Result

from .test_result_entry import cells, grid_url, post_grid
from .test_spreadsheet import column, download, rows, upload

pytestmark = pytest.mark.django_db


def test_grid_refuses_a_value_it_cannot_store_and_shows_what_was_typed(world, client_for):
    draft = world.results["x_draft"]
    response = post_grid(
        client_for("municipality_x_editor"),
        world,
        {"total-value": "99999999999999999999", "total-version": str(draft.version), "sex.female-value": "5"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="99999999999999999999"' in html and "digits" in html
    assert set(cells(world)) == {("", "")} and cells(world)[("", "")].value == draft.value
    response = post_grid(
        client_for("municipality_x_editor"), world, {"total-value": "9999999999999", "total-version": "1"}
    )
    assert response.status_code == 400 and "12 digits before the decimal point" in response.content.decode()


def test_spreadsheet_refuses_a_value_it_cannot_store_by_row_and_column(world, client_for):
    client = client_for("municipality_x_editor")
    workbook = download(client, world)
    sheet = workbook.worksheets[0]
    for number, values in rows(sheet):
        if values["option"] == "female":
            sheet.cell(number, column("value"), "9999999999999")
    response = upload(client, workbook)
    assert response.status_code == 400
    assert "12 digits before the decimal point" in response.content.decode()
    assert not Result.objects.filter(disaggregation_option="female").exists()


def test_an_option_larger_than_the_total_is_warned_about_in_the_grid_and_the_queue(world, client_for):
    draft = world.results["x_draft"]
    client = client_for("municipality_x_editor")
    data = {"total-value": "10", "total-version": str(draft.version), "sex.female-value": "12"}
    response = post_grid(client, world, data, action="submit")
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Sex: Female is 12, more than the total 10 (value)." in page
    queue = client_for("ministry_approver").get(reverse("approval_queue")).content.decode()
    assert "Sex: Female is 12, more than the total 10." in queue


def test_a_period_that_has_not_started_is_saved_as_draft_in_the_grid_but_not_submitted(world, client_for):
    client = client_for("municipality_x_editor")
    start = datetime.date(timezone.localdate().year + 1, 1, 1)
    payload = {
        "indicator": world.indicators["p1"].pk,
        "municipality": world.orgs["x"].pk,
        "period": start.isoformat(),
        "total-value": "4",
        "action": "submit",
    }
    response = client.post(reverse("result_entry"), payload)
    assert response.status_code == 400 and "once the period has started" in response.content.decode()
    assert not Result.objects.filter(period_start=start).exists()
    assert client.post(reverse("result_entry"), {**payload, "action": "save"}).status_code == 302
    assert Result.objects.get(period_start=start).status == Result.Status.DRAFT


def test_a_period_that_has_not_started_is_not_submitted_from_a_spreadsheet(world, client_for):
    client = client_for("municipality_x_editor")
    on = datetime.date(timezone.localdate().year + 1, 1, 15)
    response = client.get(
        reverse("spreadsheet"),
        {"programme": world.programmes["p1"].pk, "municipality": world.orgs["x"].pk, "on": on, "download": "1"},
    )
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    for number, values in rows(sheet):
        if not values["category"]:
            sheet.cell(number, column("value"), 4)
    response = upload(client, workbook, status="submitted")
    assert response.status_code == 400 and "once the period has started" in response.content.decode()
    assert not Result.objects.filter(period_start__year=on.year).exists()


def test_a_workbook_whose_sheet_is_cut_short_is_a_page_error(world, client_for):
    client = client_for("municipality_x_editor")
    buffer = io.BytesIO()
    download(client, world).save(buffer)
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(damaged, "w") as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(entry, content)
    response = client.post(
        reverse("spreadsheet"),
        {"file": SimpleUploadedFile("results.xlsx", damaged.getvalue()), "status": "draft"},
    )
    assert response.status_code == 400
    assert "not a readable workbook" in response.content.decode()


def test_the_queue_shows_what_the_approver_submitted_without_approve_or_return(world, client_for):
    draft = world.results["x_draft"]
    services.result_update(result=draft, user=world.users["ministry_approver"], value=Decimal(4))
    services.result_submit(result=draft, user=world.users["municipality_x_editor"])
    client = client_for("ministry_approver")
    html = client.get(reverse("approval_queue")).content.decode()
    assert "no one reviews their own work" in html and 'value="approve"' not in html
    token = f"{draft.pk}:{draft.version + 2}"
    response = client.post(reverse("approval_queue"), {"group": "g", "results": token, "action": "approve"})
    assert response.status_code == 400 and "no one reviews their own work" in response.content.decode()
    assert Result.objects.get(pk=draft.pk).status == Result.Status.SUBMITTED
    html = client_for("superuser").get(reverse("approval_queue")).content.decode()
    assert 'value="approve"' in html


def test_the_admin_refuses_to_approve_ones_own_result(world, client_for):
    draft = world.results["x_draft"]
    approver = world.users["ministry_approver"]
    approver.is_staff = True
    approver.save()
    approver.user_permissions.add(*Permission.objects.filter(codename__in=["view_result", "change_result"]))
    services.result_submit(result=draft, user=approver)
    client = client_for("ministry_approver")
    changelist = reverse("admin:indicators_result_changelist")
    response = client.post(changelist, {"action": "approve_results", "_selected_action": [draft.pk]}, follow=True)
    assert "no one reviews their own work" in response.content.decode()
    assert Result.objects.get(pk=draft.pk).status == Result.Status.SUBMITTED


def test_the_grid_locks_submitted_results_and_withdraws_them(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    post_grid(client, world, {"total-value": "3", "total-version": str(draft.version)}, action="submit")
    html = client.get(grid_url(world)).content.decode()
    assert 'value="withdraw"' in html and 'name="total-value" id="total-value" value="3"' in html
    assert "disabled" in html.split('name="total-value"')[1].split(">")[0]
    response = post_grid(client, world, {"total-version": str(draft.version + 1)}, action="withdraw")
    assert response.status_code == 302
    assert cells(world)[("", "")].status == Result.Status.DRAFT
    response = post_grid(client, world, {"total-value": "5", "total-version": str(draft.version + 2)})
    assert response.status_code == 302 and cells(world)[("", "")].value == Decimal(5)
