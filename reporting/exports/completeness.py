"""The completeness report as CSV and XLSX: one row per indicator and municipality, then the
totals by municipality, by programme and national, in the same columns. Every text cell goes
through `common.spreadsheets` (no cell runs as a formula)."""

import csv
import io
from decimal import Decimal
from typing import Any

from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from common.spreadsheets import spreadsheet_cell

COUNT_KEYS = ("expected", "on_time", "late", "missing", "rate")


def table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("Programme"),
        _("Indicator code"),
        _("Indicator"),
        _("Municipality"),
        _("Expected"),
        _("On time"),
        _("Late"),
        _("Missing"),
        _("Rate"),
    ]
    rows = [
        [row["programme_code"], row["indicator_code"], row["indicator_name"], row["municipality_name"]]
        + [row[key] for key in COUNT_KEYS]
        for row in report["rows"]
    ]
    totals = report["totals"]
    for municipality in totals["by_municipality"]:
        rows.append([_("All"), "", _("Total of the municipality"), municipality["name"], *counts(municipality)])
    for programme in totals["by_programme"]:
        rows.append([programme["code"], "", _("Total of the programme"), _("All"), *counts(programme)])
    rows.append([_("All"), "", _("National total"), _("All"), *counts(totals["national"])])
    return [spreadsheet_cell(h) for h in header], [[spreadsheet_cell(cell) for cell in row] for row in rows]


def counts(entry: dict[str, Any]) -> list[Any]:
    return [entry[key] for key in COUNT_KEYS]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def to_csv(report: dict[str, Any]) -> bytes:
    header, rows = table(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_text(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: spreadsheets then read UTF-8 (Arabic)


def to_xlsx(report: dict[str, Any]) -> bytes:
    header, rows = table(report)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Completeness")[:31]
    sheet.sheet_view.rightToLeft = get_language_bidi()  # Arabic reads from the right, as the IPTT
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            elif isinstance(cell.value, Decimal):
                cell.number_format = "0.00%"
    for index in range(1, len(header) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 12 if index > 4 else 28
    sheet.freeze_panes = "E2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
