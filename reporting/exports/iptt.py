"""The IPTT as CSV and XLSX: one row per indicator (and per disaggregation option under it when
asked), three columns per period in period order, then LoP and progress to date (docs/design.md §4).

Text cells that a spreadsheet would run as formulas are escaped (`common.spreadsheets`); numbers
are written as numbers.
"""

import csv
import io
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from common.spreadsheets import spreadsheet_cell
from rollups.models import Rollup

from ..reports import iptt_columns


def table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the flat IPTT (values still Decimal/None; text escaped)."""
    columns = iptt_columns(report)
    header = [_("Code"), _("Indicator"), _("Unit"), _("Direction"), _("Baseline"), _("Disaggregation")]
    for start, end in columns:
        label = f"{start.isoformat()}–{end.isoformat()}"
        header += [
            _("%(period)s target") % {"period": label},
            _("%(period)s actual") % {"period": label},
            _("%(period)s percent of target") % {"period": label},
        ]
    header += [_("LoP target"), _("LoP actual"), _("LoP percent of target"), _("LoP status")]
    as_of = report["as_of"].isoformat()
    header += [
        _("Target to date (as of %(date)s)") % {"date": as_of},
        _("Percent of target to date"),
        _("Status to date"),
    ]
    rows = []
    for row in report["rows"]:
        by_period = {(p["period_start"], p["period_end"]): p for p in row["periods"]}
        cells = [
            row["code"],
            row["name"],
            row["unit"],
            row["direction"],
            row["baseline_value"],
            row["disaggregation_label"],
        ]
        for key in columns:
            period = by_period.get(key) or {}
            cells += [period.get("target"), period.get("actual"), period.get("percent_of_target")]
        cells += [row["lop_target"], row["lop_actual"], row["lop_percent_of_target"], _status(row["lop_status"])]
        cells += [row["target_to_date"], row["percent_to_date"], _status(row["status_to_date"])]
        rows.append([spreadsheet_cell(cell) for cell in cells])
    return [spreadsheet_cell(h) for h in header], rows


def _status(status: str) -> str:
    return str(Rollup.Status(status).label)


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
    sheet.title = "IPTT"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    for index in range(1, len(header) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 16 if index > 2 else 28
    sheet.freeze_panes = "C2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
