"""The target grid page (`setup/programmes/<id>/targets/`): typed, pasted or uploaded targets are
saved all or nothing through `targets_upsert`; who may see and who may change them; its offline
workbook; its query counts."""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import html as lxml_html
from openpyxl import load_workbook

from indicators.models import Target
from partners.models import Membership
from rollups.models import Rollup
from tests import factories as f
from tests.roles import Q1, Q2
from web.setup.targets import FIRST_PERIOD_COLUMN, FIRST_ROW, LOADED_SHEET

pytestmark = pytest.mark.django_db


def url(world, programme="p1", indicator="p1", language="en") -> str:
    base = reverse("setup_target_grid", args=[world.programmes[programme].pk])
    return f"/{language}{base[3:]}?indicator={world.indicators[indicator].pk}"


def name(municipality, period) -> str:
    return f"t-{'all' if municipality is None else municipality.pk}-{period[0].isoformat()}"


def grid_data(world, **cells) -> dict:
    """Every cell of P1-1's grid as the page shows it, with `cells` (input name → text) changed."""
    x, y = world.orgs["x"], world.orgs["y"]
    data = {"indicator": world.indicators["p1"].pk, "action": "save", name(None, Q1): "100", "lop": ""}
    for municipality in (x, y):
        data[name(municipality, Q1)] = ""
    data.update(cells)
    return data


def page_form(client, path) -> dict:
    """The grid's form as the page renders it (every input, the hidden snapshot of what the cells
    showed included), to be changed and posted as a browser would."""
    document = lxml_html.fromstring(client.get(path).content)
    return dict(document.get_element_by_id("target-grid").form_values())


def rendered_form(response) -> dict:
    return dict(lxml_html.fromstring(response.content).get_element_by_id("target-grid").form_values())


def second_editor(world, client_for):
    """Another editor of P1's implementer, in a session of their own."""
    editor = f.UserFactory()
    f.MembershipFactory(user=editor, organisation=world.orgs["implementer"], role=Membership.Role.EDITOR)
    client = client_for()
    client.force_login(editor)
    return client


def stored(world, indicator="p1") -> dict:
    return {
        (t.municipality_id, t.period_start): t.value
        for t in Target.objects.filter(indicator=world.indicators[indicator])
    }


# Saving the grid ------------------------------------------------------------------------------


def test_the_grid_shows_the_stored_targets_in_both_languages(world, client_for):
    client = client_for("implementer_editor")
    html = client.get(url(world)).content.decode()
    assert f'name="{name(None, Q1)}" id="{name(None, Q1)}" value="100"' in html
    assert "Q1 FY25" in html and "Whole programme" in html
    arabic = client.get(url(world, language="ar")).content.decode()
    assert 'dir="rtl"' in arabic
    assert "target-grid.js" in arabic and 'inputmode="decimal" dir="ltr"' in arabic


def test_an_editor_saves_the_grid_and_a_blank_cell_deletes_its_target(world, client_for):
    client = client_for("implementer_editor")
    x, y = world.orgs["x"], world.orgs["y"]
    data = grid_data(world, **{name(None, Q1): "", name(x, Q1): "60", name(y, Q2): "45", "lop": "400"})
    response = client.post(url(world), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert stored(world) == {(x.pk, Q1[0]): Decimal(60), (y.pk, Q2[0]): Decimal(45)}
    world.indicators["p1"].refresh_from_db()
    assert world.indicators["p1"].lop_target == Decimal(400)
    page = client.get(response["Location"]).content.decode()
    assert "The targets were saved." in page
    history = Target.history.filter(indicator_id=world.indicators["p1"].pk, history_type="-").get()
    assert history.history_user == world.users["implementer_editor"]  # the page's user, recorded
    assert 'id="target-history"' in page


def test_bad_cells_are_answered_next_to_each_cell_and_nothing_is_written(world, client_for):
    indicator = world.indicators["p1"]
    indicator.value_min, indicator.whole_numbers = Decimal(0), True
    indicator.save()
    x, y, z = world.orgs["x"], world.orgs["y"], world.orgs["z"]
    client = client_for("implementer_editor")
    data = grid_data(
        world,
        **{
            name(None, Q1): "150",  # fine alone, but the batch fails
            name(x, Q1): "lots",
            name(y, Q1): "-4",
            name(x, Q2): "2.5",
            name(z, Q1): "7",  # Z takes no part in P1: not a cell of this grid
        },
    )
    response = client.post(url(world), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert f'id="{name(x, Q1)}-error">Enter a number, for example 12 or 12.5.' in html
    assert 'value="lots" data-row="1"' in html  # what was typed is kept
    assert stored(world) == {(None, Q1[0]): Decimal(100)}
    # Once the typing mistake is fixed, the rules of the service answer the rest, still cell by cell.
    data[name(x, Q1)] = "3"
    response = client.post(url(world), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="{name(y, Q1)}-error">Enter a value of at least 0.' in html
    assert f'id="{name(x, Q2)}-error">Enter a whole number: this indicator counts whole units.' in html
    assert f'id="{name(x, Q1)}-error"' not in html
    assert stored(world) == {(None, Q1[0]): Decimal(100)}
    data[name(y, Q1)], data[name(x, Q2)] = "4", "2"
    assert client.post(url(world), data).status_code == 302
    assert z.pk not in {municipality for municipality, _start in stored(world)}


def test_a_saved_target_reaches_the_rollups_and_the_iptt(
    world, client_for, eager_celery, django_capture_on_commit_callbacks
):
    client = client_for("implementer_editor")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(world), grid_data(world, **{name(None, Q2): "80", "lop": "500"}))
    assert response.status_code == 302
    rows = Rollup.objects.filter(indicator=world.indicators["p1"], scope="programme", disaggregation_category="")
    assert rows.get(period_start=Q2[0]).target == Decimal(80)
    assert rows.get(period_start__isnull=True).target == Decimal(500)
    iptt = client_for("donor_a_viewer").get(reverse("programme_detail", args=[world.programmes["p1"].pk]))
    assert "500" in iptt.content.decode()


# Two editors of one grid --------------------------------------------------------------------------


def test_a_save_from_a_page_opened_before_someone_elses_save_is_refused_at_the_changed_cell(world, client_for):
    editor_a, editor_b = client_for("implementer_editor"), second_editor(world, client_for)
    x, y = world.orgs["x"], world.orgs["y"]
    form_a = page_form(editor_a, url(world))  # A opens the grid: the programme's Q1 is 100
    form_b = page_form(editor_b, url(world))
    form_b.update({name(None, Q1): "120", name(y, Q2): "45"})
    assert editor_b.post(url(world), form_b).status_code == 302  # B saves first
    history = Target.history.count()

    form_a.update({name(None, Q1): "90", name(x, Q1): "60"})  # A changed the same cell, and another
    response = editor_a.post(url(world), form_a)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved" in page and "Someone else changed some of these targets" in page
    assert (
        f'id="{name(None, Q1)}-error">Someone else changed this target to 120 after you opened the page; '
        "reload to see it." in page
    )
    assert f'id="{name(x, Q1)}-error"' not in page  # A's other change was fine, but not saved either
    shown = rendered_form(response)
    assert (shown[name(None, Q1)], shown[name(x, Q1)]) == ("90", "60")  # what A typed is kept
    assert stored(world) == {(None, Q1[0]): Decimal(120), (y.pk, Q2[0]): Decimal(45)}
    assert Target.history.count() == history
    # Saving the refused page again is refused again: it still speaks of the grid A opened.
    assert editor_a.post(url(world), shown).status_code == 400
    arabic = editor_a.post(url(world, language="ar"), form_a).content.decode()
    assert "بعد أن فتحت الصفحة" in arabic
    # Once A reloads, B's value is in the grid and A's change is saved over it.
    form_a = page_form(editor_a, url(world))
    assert (form_a[name(None, Q1)], form_a[name(y, Q2)]) == ("120", "45")
    form_a.update({name(None, Q1): "90", name(x, Q1): "60"})
    assert editor_a.post(url(world), form_a).status_code == 302
    assert stored(world) == {(None, Q1[0]): Decimal(90), (x.pk, Q1[0]): Decimal(60), (y.pk, Q2[0]): Decimal(45)}


def test_cells_left_as_opened_keep_what_someone_else_saved_meanwhile(world, client_for):
    editor_a, editor_b = client_for("implementer_editor"), second_editor(world, client_for)
    x, y = world.orgs["x"], world.orgs["y"]
    form_a = page_form(editor_a, url(world))
    form_b = page_form(editor_b, url(world))
    form_b.update({name(None, Q1): "", name(y, Q1): "8", "lop": "500"})  # deleted, created, LoP set
    assert editor_b.post(url(world), form_b).status_code == 302

    form_a[name(x, Q2)] = "6"  # A's only change; the page still shows 100, an empty Y and LoP
    response = editor_a.post(url(world), form_a)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert stored(world) == {(y.pk, Q1[0]): Decimal(8), (x.pk, Q2[0]): Decimal(6)}
    world.indicators["p1"].refresh_from_db()
    assert world.indicators["p1"].lop_target == Decimal(500)
    # A is told, so the grid shown next is no surprise.
    told = [str(message) for message in get_messages(response.wsgi_request)]
    assert told == [
        "The targets were saved. 3 targets you did not change were changed by someone else after you "
        "opened the page: they keep their values, shown below."
    ]


# The offline workbook -------------------------------------------------------------------------


def download(client, world, language="en"):
    response = client.get(url(world, language=language) + "&download=1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def upload(client, world, workbook, language="en"):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return client.post(
        url(world, language=language),
        {
            "indicator": world.indicators["p1"].pk,
            "action": "upload",
            "file": SimpleUploadedFile("targets.xlsx", buffer.getvalue()),
        },
    )


def sheet_rows(sheet) -> dict:
    """Row key (hidden column A) → sheet row number."""
    return {str(sheet.cell(row, 1).value): row for row in range(FIRST_ROW, sheet.max_row + 1)}


def test_the_workbook_round_trip_creates_changes_and_deletes(world, client_for):
    client = client_for("implementer_editor")
    workbook = download(client, world)
    sheet = workbook.worksheets[0]
    assert sheet.protection.sheet and sheet.column_dimensions["A"].hidden
    rows = sheet_rows(sheet)
    x, y = world.orgs["x"], world.orgs["y"]
    assert sheet.cell(rows["all"], FIRST_PERIOD_COLUMN).value == 100
    sheet.cell(rows["all"], FIRST_PERIOD_COLUMN).value = None  # deleted
    sheet.cell(rows[str(x.pk)], FIRST_PERIOD_COLUMN).value = 25
    sheet.cell(rows[str(y.pk)], FIRST_PERIOD_COLUMN + 1).value = "30"
    sheet.cell(rows["lop"], FIRST_PERIOD_COLUMN).value = 240

    response = upload(client, world, workbook)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert stored(world) == {(x.pk, Q1[0]): Decimal(25), (y.pk, Q2[0]): Decimal(30)}
    world.indicators["p1"].refresh_from_db()
    assert world.indicators["p1"].lop_target == Decimal(240)
    # The same file again changes nothing.
    assert upload(client, world, workbook).status_code == 302
    assert "Nothing changed" in client.get(url(world)).content.decode()


def test_upload_errors_name_the_sheet_cell_and_nothing_is_written(world, client_for):
    client = client_for("implementer_editor")
    workbook = download(client, world)
    sheet = workbook.worksheets[0]
    rows = sheet_rows(sheet)
    x, y = world.orgs["x"], world.orgs["y"]
    sheet.cell(rows[str(x.pk)], FIRST_PERIOD_COLUMN).value = "many"  # C4
    sheet.cell(rows[str(y.pk)], FIRST_PERIOD_COLUMN + 2).value = -5  # E5
    sheet.cell(rows["all"], FIRST_PERIOD_COLUMN).value = 90

    response = upload(client, world, workbook)
    assert response.status_code == 400
    html = response.content.decode()
    assert f"<bdi>C{rows[str(x.pk)]}</bdi>: Enter a number, for example 12 or 12.5." in html
    assert "Enter a value of at least 0." not in html  # typing mistakes first; nothing reached the service

    sheet.cell(rows[str(x.pk)], FIRST_PERIOD_COLUMN).value = 12
    html = upload(client, world, workbook).content.decode()
    assert f"<bdi>E{rows[str(y.pk)]}</bdi>: Enter a value of at least 0." in html
    assert stored(world) == {(None, Q1[0]): Decimal(100)}


def test_a_workbook_downloaded_before_someone_elses_save_is_checked_cell_by_cell(world, client_for):
    editor_a, editor_b = client_for("implementer_editor"), second_editor(world, client_for)
    x, y = world.orgs["x"], world.orgs["y"]
    workbook = download(editor_a, world)  # A downloads: the programme's Q1 is 100
    assert workbook[LOADED_SHEET].sheet_state == "hidden"
    form_b = page_form(editor_b, url(world))
    form_b.update({name(None, Q1): "120", name(x, Q1): "7"})
    assert editor_b.post(url(world), form_b).status_code == 302
    sheet = workbook.worksheets[0]
    rows = sheet_rows(sheet)

    sheet.cell(rows["all"], FIRST_PERIOD_COLUMN).value = 90  # changed in the file and by B
    sheet.cell(rows[str(y.pk)], FIRST_PERIOD_COLUMN + 1).value = 30
    response = upload(editor_a, world, workbook)
    assert response.status_code == 400
    assert (
        f"<bdi>C{rows['all']}</bdi>: Someone else changed this target to 120 after this file was downloaded; "
        "download a fresh copy and enter your change there." in response.content.decode()
    )
    assert stored(world) == {(None, Q1[0]): Decimal(120), (x.pk, Q1[0]): Decimal(7)}

    sheet.cell(rows["all"], FIRST_PERIOD_COLUMN).value = 100  # back as downloaded: B's values stay
    assert upload(editor_a, world, workbook).status_code == 302
    assert stored(world) == {(None, Q1[0]): Decimal(120), (x.pk, Q1[0]): Decimal(7), (y.pk, Q2[0]): Decimal(30)}


def test_a_workbook_without_its_loaded_values_is_saved_unchecked(world, client_for):
    # A file downloaded before the sheet of loaded values existed: the last save wins, as it did.
    editor_a, editor_b = client_for("implementer_editor"), second_editor(world, client_for)
    workbook = download(editor_a, world)
    del workbook[LOADED_SHEET]
    form_b = page_form(editor_b, url(world))
    form_b[name(None, Q1)] = "120"
    assert editor_b.post(url(world), form_b).status_code == 302
    sheet = workbook.worksheets[0]
    sheet.cell(sheet_rows(sheet)["all"], FIRST_PERIOD_COLUMN).value = 90
    assert upload(editor_a, world, workbook).status_code == 302
    assert stored(world) == {(None, Q1[0]): Decimal(90)}


def test_upload_refuses_another_file_and_a_formula_stays_text(world, client_for):
    client = client_for("implementer_editor")
    workbook = download(client, world)
    workbook["_meta"]["B2"] = world.indicators["p2"].pk
    html = upload(client, world, workbook).content.decode()
    assert "holds the targets of another indicator" in html
    workbook = download(client, world)
    sheet = workbook.worksheets[0]
    formula = sheet.cell(sheet_rows(sheet)["all"], FIRST_PERIOD_COLUMN, '=HYPERLINK("http://evil")')
    formula.data_type = "s"
    html = upload(client, world, workbook).content.decode()
    assert "Enter a number" in html
    assert stored(world) == {(None, Q1[0]): Decimal(100)}


def test_names_that_look_like_formulas_are_written_as_text(world, client_for):
    y = world.orgs["y"]
    y.name_en = '=HYPERLINK("http://evil", "Tinley Park")'
    y.save()
    sheet = download(client_for("implementer_editor"), world).worksheets[0]
    assert sheet.cell(sheet_rows(sheet)[str(y.pk)], 2).value == "'" + y.name_en


def test_the_arabic_workbook_is_right_to_left_with_arabic_headers(world, client_for):
    workbook = download(client_for("implementer_editor"), world, language="ar")
    sheet = workbook.worksheets[0]
    assert sheet.sheet_view.rightToLeft
    assert sheet.title != "Targets"
    assert sheet.cell(2, 2).value == "البلدية"
    assert "الربع الأول" in sheet.cell(2, FIRST_PERIOD_COLUMN).value
    assert workbook.worksheets[1].sheet_view.rightToLeft


# Who may see and change the targets ------------------------------------------------------------

# role → (GET of P1's grid, POST to it)
MATRIX = {
    None: (302, 302),
    "superuser": (200, 302),
    "implementer_editor": (200, 302),
    "ministry_viewer": (200, 403),
    "ministry_approver": (200, 403),
    "donor_a_viewer": (200, 403),
    "donor_b_viewer": (404, 404),
    "municipality_x_editor": (200, 403),
    "municipality_y_editor": (200, 403),
}


@pytest.mark.parametrize(("role", "expected"), MATRIX.items())
@pytest.mark.parametrize("language", ["en", "ar"])
def test_access_matrix(world, client_for, role, expected, language):
    client = client_for(role)
    page = client.get(url(world, language=language))
    assert page.status_code == expected[0]
    if role is None:
        assert "/login/" in page["Location"]
    if expected[0] == 200:
        html = page.content.decode()
        assert ('id="save-targets"' in html) == (expected[1] == 302)
        assert ('id="read-only"' in html) == (expected[1] == 403)
    posted = client.post(url(world, language=language), grid_data(world, **{name(None, Q2): "5"}))
    assert posted.status_code == expected[1]
    assert (stored(world).get((None, Q2[0])) is not None) == (expected[1] == 302 and role is not None)


def test_a_ministry_editor_sees_but_does_not_set_a_programmes_targets(world, client_for):
    editor = f.UserFactory()
    f.MembershipFactory(user=editor, organisation=world.orgs["ministry"], role=Membership.Role.EDITOR)
    client = client_for()
    client.force_login(editor)
    assert client.get(url(world)).status_code == 200
    assert client.post(url(world), grid_data(world)).status_code == 403


def test_other_programmes_and_their_indicators_are_not_found(world, client_for):
    client = client_for("implementer_editor")
    assert client.get(url(world, programme="p2", indicator="p2")).status_code == 404
    assert client.get(url(world, programme="p1", indicator="p2")).status_code == 404  # P2's indicator under P1
    assert client_for("municipality_x_editor").get(url(world, programme="p2", indicator="p2")).status_code == 404


# Query counts ---------------------------------------------------------------------------------


def grow(world, times: int):
    """More municipalities in P1, more indicators, and an indicator with targets in every cell of
    two quarters; returns that indicator."""
    p1 = world.programmes["p1"]
    municipalities = [f.MunicipalityFactory() for _ in range(times)]
    f.TwinningFactory(programme=p1, municipalities=municipalities)
    grown = [f.IndicatorFactory(programme=p1, code=f"G-{n}") for n in range(times)]
    for municipality in [None, world.orgs["x"], world.orgs["y"], *municipalities]:
        for period in (Q1, Q2):
            f.TargetFactory(indicator=grown[0], municipality=municipality, period_start=period[0], period_end=period[1])
    return grown[0]


def queries(client, method, path, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
    assert response.status_code in (200, 302), response.content.decode()[:2000]
    return len(captured)


def test_the_page_and_a_save_cost_the_same_queries_for_ten_times_the_grid(world, client_for):
    # Each save changes a target, creates one and sets the LoP target, of an indicator not yet
    # saved in the test's transaction (the first save marks it stale; later ones find it marked).
    # The posts carry the page's snapshot of what each cell showed, so every cell is checked.
    client = client_for("implementer_editor")
    x = world.orgs["x"]
    snapshot = page_form(client, url(world))["loaded"]
    small = (
        queries(client, "get", url(world)),
        queries(
            client,
            "post",
            url(world),
            grid_data(world, lop="7", loaded=snapshot, **{name(None, Q1): "101", name(x, Q2): "4"}),
        ),
        queries(client, "get", url(world) + "&download=1"),
    )
    indicator = grow(world, 10)
    world.indicators["grown"] = indicator
    client = client_for("implementer_editor")
    data = {
        "indicator": indicator.pk,
        "action": "save",
        "lop": "8",
        "loaded": page_form(client, url(world, indicator="grown"))["loaded"],
    }
    for target in Target.objects.filter(indicator=indicator).select_related("municipality"):
        data[name(target.municipality, (target.period_start, target.period_end))] = "3"  # every one changed
        data[name(target.municipality, (target.period_end + datetime.timedelta(days=1), None))] = "5"  # created
    large = (
        queries(client, "get", url(world, indicator="grown")),
        queries(client, "post", url(world, indicator="grown"), data),
        queries(client, "get", url(world, indicator="grown") + "&download=1"),
    )
    assert small == large
    assert Target.objects.filter(indicator=indicator).count() == 3 * 13


def changed_workbook(client, path: str) -> bytes:
    """The downloaded workbook with every stored target changed, the next empty column filled and a
    new LoP target."""
    workbook = load_workbook(io.BytesIO(client.get(path + "&download=1").content))
    sheet = workbook.worksheets[0]
    rows = sheet_rows(sheet)
    filled = [c for c in range(FIRST_PERIOD_COLUMN, sheet.max_column + 1) if sheet.cell(FIRST_ROW, c).value is not None]
    for key, row in rows.items():
        if key == "lop":
            sheet.cell(row, FIRST_PERIOD_COLUMN).value = 999
            continue
        for column in range(FIRST_PERIOD_COLUMN, sheet.max_column + 1):
            if sheet.cell(row, column).value is not None:
                sheet.cell(row, column).value += 1
        sheet.cell(row, max(filled) + 1).value = 2
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_upload_costs_the_same_queries_for_ten_times_the_grid(world, client_for):
    def count(client, indicator) -> int:
        path = url(world, indicator=indicator)
        content = changed_workbook(client, path)
        upload = SimpleUploadedFile("targets.xlsx", content)
        data = {"indicator": world.indicators[indicator].pk, "action": "upload", "file": upload}
        return queries(client, "post", path, data)

    client = client_for("implementer_editor")
    x = world.orgs["x"]
    client.post(url(world), grid_data(world, lop="7", **{name(x, Q1): "2"}))  # a stored target in every row
    client.post(url(world), grid_data(world, lop="7", **{name(x, Q1): "2", name(world.orgs["y"], Q1): "3"}))
    small = count(client, "p1")
    world.indicators["grown"] = grow(world, 10)
    client = client_for("implementer_editor")
    client.post(url(world, indicator="grown"), {"indicator": world.indicators["grown"].pk, "lop": "7"})
    assert count(client, "grown") == small
    assert Target.objects.filter(indicator=world.indicators["grown"]).count() == 3 * 13


def test_a_monthly_grid_of_many_municipalities_saves_like_a_small_one(world, client_for):
    # Three years of months for 40 municipalities and the programme: 1,476 inputs, more than
    # the 1,000 fields a Django form accepts by default.
    p1 = world.programmes["p1"]
    f.TwinningFactory(programme=p1, municipalities=[f.MunicipalityFactory() for _ in range(38)])
    monthly = f.IndicatorFactory(programme=p1, code="MONTHLY", frequency="monthly")
    world.indicators["monthly"] = monthly
    client = client_for("implementer_editor")
    form = page_form(client, url(world, indicator="monthly"))
    assert len(form) > 1400
    form[name(world.orgs["x"], (datetime.date(2027, 12, 1), None))] = "12"
    response = client.post(url(world, indicator="monthly"), form)
    assert response.status_code == 302, response.content.decode()[:500]
    assert list(Target.objects.filter(indicator=monthly).values_list("period_start", "value")) == [
        (datetime.date(2027, 12, 1), Decimal("12"))
    ]


def test_a_form_past_the_field_limit_is_answered_in_the_pages_language_and_nothing_is_saved(
    world, client_for, settings
):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    before = stored(world)
    response = client_for("implementer_editor").post(url(world, language="ar"), grid_data(world, lop="9"))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'dir="rtl"' in page and "تعذّر على الصفحة قبول هذا الطلب" in page and "فلم يُحفظ شيء" in page
    assert stored(world) == before
