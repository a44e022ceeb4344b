"""Each table a page shows, downloaded as CSV or XLSX: the page's own URL with
`?download=csv|xlsx&table=<name>` (the page's other parameters kept), so the file is in the
page's language (an /ar/ page gives Arabic headers and a right-to-left sheet) and covers exactly
what the user may see there: the view checks access and builds its context as for the page, and
the table below is read from that same context. Nothing is computed twice or a second way.

A table's columns are the page's columns, in the page's order; a cell that shows two things (a
code and a name, a percentage and its status badge) becomes two columns, so that numbers stay
numbers in a spreadsheet. Percentages are given to two decimals (the page rounds them to one for
reading); names are in the page's language, falling back to the other one as the page does.
Every text cell goes through `common.spreadsheets.spreadsheet_cell`, so no cell runs as a formula.
"""

import csv
import datetime
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.translation import get_language_bidi, pgettext
from django.utils.translation import gettext as _
from django_countries import countries
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from common.spreadsheets import spreadsheet_cell
from rollups.models import Rollup

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[Any]]


TableBuilder = Callable[[dict], Table]


# The response -------------------------------------------------------------------------------


def answer(request, context: dict, tables: Mapping[str, TableBuilder], *, stem: str) -> HttpResponse | None:
    """The download the page was asked for (`?download=&table=`), None when it was asked for the
    page. An unknown format or table is a 404, as a page that does not exist."""
    output = request.GET.get("download")
    if output is None:
        return None
    builder = tables.get(request.GET.get("table", ""))
    if output not in FORMATS or builder is None:
        raise Http404
    table = builder(context)
    name = f"{stem}-{request.GET['table']}.{output}"
    if output == "csv":
        response = HttpResponse(to_csv(table), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(to_xlsx(table), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # "47", not the stored "47.000000"
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_cell(h) for h in table.header])
    for row in table.rows:
        writer.writerow([_csv_text(spreadsheet_cell(cell)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: spreadsheets then read UTF-8 (Arabic)


def to_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    # A sheet's name is at most 31 characters and may not hold []:*?/\
    sheet.title = "".join(c for c in table.title if c not in "[]:*?/\\")[:31] or "Sheet"
    sheet.sheet_view.rightToLeft = get_language_bidi()  # Arabic reads from the right
    sheet.append([spreadsheet_cell(h) for h in table.header])
    for row in table.rows:
        sheet.append([spreadsheet_cell(cell) for cell in row])
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            elif isinstance(cell.value, datetime.date):
                cell.number_format = "DD/MM/YYYY"  # day first, as the pages write dates
    for index in range(1, len(table.header) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 14 if index > 2 else 30
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Cells --------------------------------------------------------------------------------------


def name(obj, field: str = "name") -> str:
    """A name in the page's language, or in the other one when that is empty (as the pages show it)."""
    if obj is None:
        return ""
    return str(getattr(obj, field, "") or "")


def names(objects, field: str = "name") -> str:
    return pgettext("list separator", ", ").join(name(o, field) for o in objects)


def percent(value) -> Decimal | None:
    """A percentage to two decimals, half-up (docs/design.md §4: rounded only when shown)."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return None


def status(value) -> str:
    """A rollup status as its badge reads; no status (no rollup yet) is "No data", as on the page."""
    return str(Rollup.Status(value or Rollup.Status.NO_DATA).label)


def lop(row: dict, attribute: str):
    rollup = row.get("lop")
    return getattr(rollup, attribute, None) if rollup is not None else None


# Ministry dashboard -------------------------------------------------------------------------


def national_targets(context: dict) -> Table:
    header = [
        _("Code"),
        _("National target"),
        _("Deadline"),
        _("Progress to date"),
        _("Status to date"),
        _("Life of programme"),
        _("Status"),
        _("Contributing programmes"),
        _("Donors"),
        _("Indicators"),
        _("Indicators not measurable yet"),
    ]
    rows = [
        [
            row["target"].code,
            name(row["target"], "title"),
            row["target"].deadline,
            percent(row["progress_to_date"]),
            status(row["status_to_date"]),
            percent(row["progress"]),
            status(row["status"]),
            names(row["programmes"]),
            names(row["donors"]),
            row["indicator_count"],
            row["not_measurable"],
        ]
        for row in context["national_rows"]
    ]
    return Table(_("National targets"), header, rows)


def overlaps(context: dict) -> Table:
    header = [_("Municipality"), _("Theme"), _("Programmes"), _("Donors")]
    rows = [
        [name(o["municipality"]), name(o["theme"]), names(o["programmes"]), names(o["donors"])]
        for o in context["overlaps"]
    ]
    return Table(_("Overlaps between donors"), header, rows)


def matrix(context: dict) -> Table:
    """One row per national target; per donor goal its mean progress to date and over the life of
    the programme (empty where the two share no indicator)."""
    header = [_("Code"), _("National target")]
    for goal in context["matrix"]["goals"]:
        label = f"{name(goal.donor)} {goal.code} {name(goal, 'title')}"
        header += [
            _("%(goal)s: progress to date") % {"goal": label},
            _("%(goal)s: life of programme") % {"goal": label},
        ]
    rows = []
    for row in context["matrix"]["rows"]:
        cells = [row["target"].code, name(row["target"], "title")]
        for item in row["cells"]:
            cell = item["cell"] or {}
            cells += [percent(cell.get("progress_to_date")), percent(cell.get("progress"))]
        rows.append(cells)
    return Table(_("National targets × donor goals"), header, rows)


def municipality_overview(context: dict) -> Table:
    header = [_("Municipality"), _("Country"), _("Programmes"), _("Activities"), _("Results awaiting approval")]
    header += [str(s.label) for s in context["band_statuses"]]
    rows = [
        [
            name(row["municipality"]),
            countries.name(row["municipality"].country) or row["municipality"].country,
            row["programmes"],
            row["activities"],
            row["submitted"],
            *row["band_counts"],
        ]
        for row in context["municipality_overview"]
    ]
    return Table(_("Municipality overview"), header, rows)


MINISTRY = {
    "national-targets": national_targets,
    "overlaps": overlaps,
    "matrix": matrix,
    "municipalities": municipality_overview,
}


# Donor dashboard ----------------------------------------------------------------------------


def donor_indicators(context: dict) -> Table:
    header = [
        _("Programme"),
        _("Code"),
        _("Indicator"),
        _("Target to date"),
        _("Progress to date"),
        _("Status to date"),
        _("Target"),
        _("Actual"),
        "%",
        _("Status"),
    ]
    rows = [
        [
            name(row["indicator"].programme),
            row["indicator"].code,
            name(row["indicator"]),
            lop(row, "target_to_date"),
            percent(lop(row, "percent_to_date")),
            status(lop(row, "status_to_date")),
            lop(row, "target"),
            lop(row, "actual"),
            percent(lop(row, "percent_of_target")),
            status(lop(row, "status")),
        ]
        for row in context["indicator_rows"]
    ]
    return Table(_("Indicators"), header, rows)


def donor_periods(context: dict) -> Table:
    """The numbers behind every chart shown, one row per indicator and period."""
    header = [_("Code"), _("Indicator"), _("Period"), _("Target"), _("Actual"), _("Status")]
    rows = [
        [item["indicator"].code, name(item["indicator"]), bar.label, bar.target, bar.actual, status(bar.status)]
        for item in context["charts"]
        if item["chart"]
        for bar in item["chart"]["rows"]
    ]
    return Table(_("Target and actual by period"), header, rows)


DONOR = {"indicators": donor_indicators, "periods": donor_periods}


# Programme and municipality pages -----------------------------------------------------------


def activities(context: dict) -> Table:
    header = [
        _("Activity"),
        _("Workstream"),
        _("Status"),
        _("Kind"),
        _("Start date"),
        _("End date"),
        _("Municipality"),
        _("Women"),
        _("Men"),
        _("Youth"),
        _("With a disability"),
        _("Lessons learned"),
    ]
    rows = [
        [
            name(a, "title"),
            name(a.workstream),
            str(a.get_status_display()),
            str(a.get_kind_display()),
            a.start_date,
            a.end_date,
            name(a.municipality),
            a.participants_female,
            a.participants_male,
            a.participants_youth,
            a.participants_with_disability,
            a.lessons_learned or "",
        ]
        for a in context["activities"]
    ]
    return Table(_("Activities"), header, rows)


def workstreams(context: dict) -> Table:
    header = [_("Workstream"), _("Lead"), _("Theme"), _("Municipalities"), _("Activities")]
    rows = [
        [name(w), name(w.lead), name(w.theme), names(w.municipalities.all()), w.activity_count]
        for w in context["workstreams"]
    ]
    return Table(_("Workstreams"), header, rows)


def programme_indicators(context: dict) -> Table:
    header = [
        _("Code"),
        _("Indicator"),
        _("Level"),
        _("Measure"),
        _("Unit"),
        _("Frequency"),
        _("Direction"),
        _("Disaggregation"),
        _("Workstream"),
    ]
    rows = [
        [
            i.code,
            name(i),
            str(i.get_level_display()),
            str(i.get_measure_display()),
            i.unit or "",
            str(i.get_frequency_display()),
            str(i.get_direction_display()),
            names(i.disaggregations.all()),
            name(i.workstream),
        ]
        for i in context["indicators"]
    ]
    return Table(_("Indicators"), header, rows)


PROGRAMME = {"workstreams": workstreams, "indicators": programme_indicators, "activities": activities}


def municipality_indicators(context: dict) -> Table:
    header = [
        _("Programme"),
        _("Code"),
        _("Indicator"),
        _("Target to date"),
        _("Progress to date"),
        _("Status to date"),
        _("Target"),
        _("Actual"),
        _("Progress"),
        _("Status"),
    ]
    rows = [
        [
            row["indicator"].programme.code,
            row["indicator"].code,
            name(row["indicator"]),
            lop(row, "target_to_date"),
            percent(lop(row, "percent_to_date")),
            status(lop(row, "status_to_date")),
            lop(row, "target"),
            lop(row, "actual"),
            percent(lop(row, "percent_of_target")),
            status(lop(row, "status")),
        ]
        for row in context["indicator_rows"]
    ]
    return Table(_("Results in this municipality"), header, rows)


def recent_results(context: dict) -> Table:
    header = [_("Code"), _("Indicator"), _("Period start"), _("Period end"), _("Value"), _("Status")]
    rows = [
        [r.indicator.code, name(r.indicator), r.period_start, r.period_end, r.value, str(r.get_status_display())]
        for r in context["recent_results"]
    ]
    return Table(_("Latest reported totals"), header, rows)


MUNICIPALITY = {"indicators": municipality_indicators, "results": recent_results, "activities": activities}


# Completeness page --------------------------------------------------------------------------


def _counts(entry: dict) -> list:
    return [entry["expected"], entry["on_time"], entry["late"], entry["missing"], percent(entry["percent"])]


def _count_header() -> list[str]:
    return [_("Expected"), _("On time"), _("Late"), _("Missing"), _("Rate")]


def completeness_programmes(context: dict) -> Table:
    rows = [[t["code"], t["name"], *_counts(t)] for t in context["by_programme"]]
    return Table(_("By programme"), [_("Code"), _("Programme"), *_count_header()], rows)


def completeness_municipalities(context: dict) -> Table:
    rows = [[t["name"], *_counts(t)] for t in context["by_municipality"]]
    return Table(_("By municipality"), [_("Municipality"), *_count_header()], rows)


def completeness_rows(context: dict) -> Table:
    header = [_("Programme"), _("Indicator code"), _("Indicator"), _("Municipality"), *_count_header()]
    rows = [
        [r["programme_code"], r["indicator_code"], r["indicator_name"], r["municipality_name"], *_counts(r)]
        for r in context["rows"]
    ]
    return Table(_("By indicator and municipality"), header, rows)


COMPLETENESS = {
    "programmes": completeness_programmes,
    "municipalities": completeness_municipalities,
    "indicators": completeness_rows,
}
