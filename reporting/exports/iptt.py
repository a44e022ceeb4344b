"""The IPTT as CSV and XLSX: one row per indicator, three columns per period, then LoP.

Text cells that a spreadsheet would run as formulas are escaped (`common.spreadsheets`); numbers
are written as numbers.
"""

import csv
import io
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from common.spreadsheets import spreadsheet_cell
from indicators.models import Indicator

from ..reports import iptt_columns


def table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the flat IPTT (values still Decimal/None; text escaped)."""
    columns = iptt_columns(report)
    header = [_("Code"), _("Indicator"), _("Unit"), _("Direction"), _("Baseline")]
    for start, end in columns:
        label = f"{start.isoformat()}–{end.isoformat()}"
        header += [
            _("%(period)s target") % {"period": label},
            _("%(period)s actual") % {"period": label},
            _("%(period)s percent of target") % {"period": label},
        ]
    header += [_("LoP target"), _("LoP actual"), _("LoP percent of target")]
    rows = []
    for row in report["rows"]:
        by_period = {(p["period_start"], p["period_end"]): p for p in row["periods"]}
        direction = str(Indicator.Direction(row["direction"]).label)  # in the request's language
        cells = [row["code"], row["name"], row["unit"], direction, row["baseline_value"]]
        for key in columns:
            period = by_period.get(key) or {}
            cells += [period.get("target"), period.get("actual"), period.get("percent_of_target")]
        cells += [row["lop_target"], row["lop_actual"], row["lop_percent_of_target"]]
        rows.append([spreadsheet_cell(cell) for cell in cells])
    return [spreadsheet_cell(h) for h in header], rows


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
    sheet.sheet_view.rightToLeft = translation.get_language_bidi()  # Arabic reads from the right
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
