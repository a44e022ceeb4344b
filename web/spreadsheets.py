"""The offline Excel round-trip: a pre-filled workbook for one programme, municipality and date,
filled in offline, uploaded and validated all or nothing through the result services. The parts
every offline sheet shares (opening an upload safely, reading cells, the look of editable cells,
the instructions and the hidden `_meta` sheet) are public here; the target sheet uses them too.

Safety: uploads are size-limited before parsing; the zip container is checked for bombs (entry
count, uncompressed size) before openpyxl opens it; openpyxl parses XML through defusedxml (the
import refuses to run without it); rows are limited; text written to cells is escaped so that
nothing we export can start a formula (CSV/formula injection).
"""

import datetime
import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from common.spreadsheets import spreadsheet_cell, unescape_formula
from indicators import periods
from indicators.models import DisaggregationOption, Indicator, Result
from indicators.services import BulkValidationError, ResultRow, RowProblem, result_change_refusal, results_upsert
from partners.models import Organisation
from projects.access import Access
from projects.models import Programme

from .results import parse_decimal

FORMAT = "twinning-results-1"
MAX_ROWS = 2000
MAX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024
MAX_ZIP_ENTRIES = 200

# (key, header, hidden, editable)
COLUMNS = [
    ("result_id", _("Result id"), True, False),
    ("version", _("Version"), True, False),
    ("indicator_id", _("Indicator id"), True, False),
    ("municipality_id", _("Municipality id"), True, False),
    ("period_start", _("Period start"), True, False),
    ("period_end", _("Period end"), True, False),
    ("category", _("Category code"), True, False),
    ("option", _("Option code"), True, False),
    ("indicator_code", _("Indicator code"), False, False),
    ("indicator_name", _("Indicator"), False, False),
    ("disaggregation", _("Disaggregation"), False, False),
    ("period", _("Period"), False, False),
    ("measure", _("Measure"), False, False),
    ("unit", _("Unit"), False, False),
    ("status", _("Status"), False, False),
    ("value", _("Value"), False, True),
    ("numerator", _("Numerator"), False, True),
    ("denominator", _("Denominator"), False, True),
    ("comment", _("Comment"), False, True),
]
KEYS = [c[0] for c in COLUMNS]
FIELD_COLUMN = {
    "value": "value",
    "numerator": "numerator",
    "denominator": "denominator",
    "comment": "comment",
    "period_start": "period",
}
CONFLICT_MESSAGE = _(
    "This result was changed after this file was downloaded, and the file gives another value. "
    "Download a fresh copy and enter your change there."
)
HEADER_ROW, KEY_ROW, FIRST_DATA_ROW = 2, 1, 3
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
META_SHEET = "_meta"
HEADER_FONT = Font(bold=True)
UNLOCKED = Protection(locked=False)
EDITABLE_FILL = PatternFill("solid", fgColor="FFF7D6")


def make_editable(cell) -> None:
    """A cell the user fills in: unlocked in the protected sheet and shaded yellow."""
    cell.protection = UNLOCKED
    cell.fill = EDITABLE_FILL


def protect(sheet) -> None:
    """Only the unlocked cells can be edited; columns and rows may still be resized."""
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def write_instructions(workbook: Workbook, lines: list[str], *, rtl: bool) -> None:
    notes = workbook.create_sheet(str(_("Instructions"))[:31])
    notes.sheet_view.rightToLeft = rtl
    notes.column_dimensions["A"].width = 110
    for index, line in enumerate(lines, start=1):
        notes.cell(index, 1, spreadsheet_cell(line)).alignment = Alignment(wrap_text=True)


def write_meta(workbook: Workbook, values: dict[str, object]) -> None:
    """A hidden sheet saying what the file is (its format and what it was made for)."""
    meta = workbook.create_sheet(META_SHEET)
    meta.sheet_state = "hidden"
    for row, (key, value) in enumerate(values.items(), start=1):
        meta.cell(row, 1, key)
        meta.cell(row, 2, value)


def read_meta(workbook: Workbook) -> dict[str, str] | None:
    """What `write_meta` wrote, as text (None: the file has no such sheet)."""
    if META_SHEET not in workbook.sheetnames:
        return None
    found = {}
    for row in readable_rows(workbook[META_SHEET]):
        if row and row[0] is not None:
            found[str(row[0])] = as_text(row[1] if len(row) > 1 else None)
    return found


def saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_rows(programme: Programme, municipality: Organisation, on: datetime.date):
    indicators = list(
        Indicator.objects.filter(programme=programme).prefetch_related("disaggregations").order_by("code")
    )
    options: dict[int, list[DisaggregationOption]] = {}
    for option in DisaggregationOption.objects.select_related("category").order_by("category__code", "code"):
        options.setdefault(option.category_id, []).append(option)
    cells = {}
    indicator_periods = {}
    for indicator in indicators:
        indicator_periods[indicator.pk] = periods.period_containing(
            on, indicator.frequency, programme.fiscal_year_start_month
        )
    existing = Result.objects.filter(
        indicator__in=indicators,
        municipality=municipality,
        period_start__in={p[0] for p in indicator_periods.values()},
    )
    for result in existing:
        cells[
            (result.indicator_id, result.period_start, result.disaggregation_category, result.disaggregation_option)
        ] = result
    for indicator in indicators:
        start, end = indicator_periods[indicator.pk]
        pairs = [("", "", str(_("Total")))]
        for category in sorted(indicator.disaggregations.all(), key=lambda c: c.code):
            for option in options.get(category.pk, []):
                pairs.append((category.code, option.code, f"{category.name}: {option.name}"))
        for category, option, label in pairs:
            yield indicator, start, end, category, option, label, cells.get((indicator.pk, start, category, option))


def excel_number(value: Decimal | None):
    if value is None:
        return None
    normal = value.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


def build_workbook(*, programme: Programme, municipality: Organisation, on: datetime.date, language: str) -> bytes:
    with translation.override(language):
        rtl = translation.get_language_bidi()
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = str(_("Results"))[:31]
        sheet.sheet_view.rightToLeft = rtl
        for index, (key, header, hidden, _editable) in enumerate(COLUMNS, start=1):
            sheet.cell(KEY_ROW, index, key)
            cell = sheet.cell(HEADER_ROW, index, str(header))
            cell.font = HEADER_FONT
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].hidden = hidden
            sheet.column_dimensions[letter].width = 40 if key in ("indicator_name", "comment") else 16
        sheet.row_dimensions[KEY_ROW].hidden = True
        sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, KEYS.index("indicator_name") + 2)
        row_number = FIRST_DATA_ROW
        for indicator, start, end, category, option, label, result in _sheet_rows(programme, municipality, on):
            values = {
                "result_id": result.pk if result else None,
                "version": result.version if result else None,
                "indicator_id": indicator.pk,
                "municipality_id": municipality.pk,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "category": category,
                "option": option,
                "indicator_code": indicator.code,
                "indicator_name": indicator.name,
                "disaggregation": label,
                "period": f"{start.isoformat()} – {end.isoformat()}",
                "measure": str(indicator.get_measure_display()),
                "unit": indicator.unit or "",
                "status": str(result.get_status_display()) if result else "",
                "value": excel_number(result.value)
                if result and indicator.measure != Indicator.Measure.PERCENTAGE
                else None,
                "numerator": excel_number(result.numerator) if result else None,
                "denominator": excel_number(result.denominator) if result else None,
                "comment": result.comment if result else "",
            }
            locked = result is not None and result_change_refusal(result) is not None
            for index, (key, _header, _hidden, editable) in enumerate(COLUMNS, start=1):
                cell = sheet.cell(row_number, index, spreadsheet_cell(values[key]))
                if isinstance(values[key], str):
                    cell.data_type = "s"
                if editable and not locked:
                    make_editable(cell)
            row_number += 1
        numbers = DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            error=str(_("Enter a number of at least 0.")),
        )
        sheet.add_data_validation(numbers)
        for key in ("value", "numerator", "denominator"):
            letter = get_column_letter(KEYS.index(key) + 1)
            numbers.add(f"{letter}{FIRST_DATA_ROW}:{letter}{max(row_number - 1, FIRST_DATA_ROW)}")
        protect(sheet)
        lines = [
            str(_("Offline results for %(municipality)s, programme %(programme)s, periods containing %(date)s."))
            % {"municipality": municipality.name, "programme": programme.code, "date": on.isoformat()},
            str(
                _(
                    "Fill in the yellow cells only: Value for numbers and scores; "
                    "Numerator and Denominator for percentages."
                )
            ),
            str(_("Leave a row empty to skip it. Approved results are locked and cannot be changed here.")),
            str(_("Do not add, remove or reorder rows or columns: hidden columns identify each result.")),
            str(
                _(
                    "Upload the file on the “Offline spreadsheet” page. If any cell is wrong nothing is saved, "
                    "and the page lists every problem by sheet, row and column."
                )
            ),
            str(_("Disaggregations (sex, age, disability) should add up to the total.")),
        ]
        write_instructions(workbook, lines, rtl=rtl)
        write_meta(
            workbook,
            {"format": FORMAT, "programme": programme.pk, "municipality": municipality.pk, "language": language},
        )
        return saved(workbook)


# Import -------------------------------------------------------------------------------------


@dataclass
class CellError:
    sheet: str
    row: int
    column: str
    message: str


class WorkbookErrors(Exception):
    def __init__(self, errors: list[CellError]):
        self.errors = errors
        super().__init__(f"{len(errors)} problems")


def open_workbook(upload) -> Workbook:
    """An uploaded .xlsx, opened safely (bomb checks first, XML through defusedxml), read-only."""
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a pinned requirement
        raise WorkbookErrors([CellError("", 0, "", gettext("The server cannot read spreadsheets safely right now."))])
    data = upload.read()
    unreadable = WorkbookErrors([CellError("", 0, "", gettext("This file is not an Excel workbook (.xlsx)."))])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise unreadable from error
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNCOMPRESSED_BYTES:
        raise WorkbookErrors([CellError("", 0, "", gettext("This workbook is too large once unpacked."))])
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds of errors on damaged files
        raise unreadable from error


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unescape_formula(str(value).strip())


def as_decimal(value) -> tuple[Decimal | None, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, gettext("Enter a number, for example 12 or 12.5.")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)), None
    return parse_decimal(str(value))


def import_workbook(*, upload, access: Access, user, status: str) -> dict:
    workbook = open_workbook(upload)
    try:
        return _import(workbook, access, user, status)
    finally:
        workbook.close()


def _unreadable() -> WorkbookErrors:
    return WorkbookErrors(
        [CellError("", 0, "", gettext("This file is not a readable workbook: it may be damaged or cut short."))]
    )


def readable_rows(sheet):
    """The sheet's rows as read. A read-only workbook parses its sheet XML while the rows are
    read, so a damaged sheet (cut short, say) shows up here, not when the file is opened."""
    rows = sheet.iter_rows(values_only=True)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as error:  # openpyxl and the XML parser raise many kinds on damaged files
            raise _unreadable() from error
        yield row


class _Sheet:
    """The first sheet of an uploaded workbook: its name and how its columns are labelled in
    messages ("P (Value)")."""

    def __init__(self, sheet):
        self.name = sheet.title
        self.rows = readable_rows(sheet)
        keys = [str(k) if k is not None else "" for k in next(self.rows, ())]
        headers = next(self.rows, ())
        if keys[: len(KEYS)] != KEYS:
            raise WorkbookErrors(
                [CellError(self.name, 1, "", gettext("The columns were changed; download a new spreadsheet."))]
            )
        self.column_label = {
            key: f"{get_column_letter(i + 1)} ({headers[i] if i < len(headers) and headers[i] else key})"
            for i, key in enumerate(KEYS)
        }

    def error(self, number: int, key: str, message: str) -> CellError:
        return CellError(self.name, number, self.column_label[key], message)


def _read_row(sheet: _Sheet, number: int, values: dict) -> tuple[ResultRow | None, list[CellError]]:
    """One sheet row as the services' row, or the cells that are wrong. The hidden columns say
    which cell of the framework the row is and which version of its result the file was made from
    (none when the cell was empty at download)."""
    try:
        version = int(values["version"]) if values.get("version") not in (None, "") else None
        row = ResultRow(
            indicator_id=int(values["indicator_id"]),
            municipality_id=int(values["municipality_id"]),
            period_start=datetime.date.fromisoformat(as_text(values["period_start"])),
            period_end=datetime.date.fromisoformat(as_text(values["period_end"])),
            version=version,
        )
    except (TypeError, ValueError):
        return None, [
            sheet.error(number, "indicator_code", gettext("The hidden identifiers of this row were changed."))
        ]
    category = as_text(values.get("category"))
    row.disaggregation = {category: as_text(values.get("option"))} if category else {}
    errors = []
    for key in ("value", "numerator", "denominator"):
        number_value, message = as_decimal(values.get(key))
        if message:
            errors.append(sheet.error(number, key, message))
        setattr(row, key, number_value)
    row.comment = as_text(values.get("comment"))
    return (None if errors else row), errors


def _conflict_column(row: ResultRow, field_name: str) -> str:
    """The column a conflict is shown in: the field that differs, else the first filled cell."""
    if field_name in FIELD_COLUMN:
        return FIELD_COLUMN[field_name]
    filled = [key for key in ("value", "numerator", "denominator") if getattr(row, key) is not None]
    return filled[0] if filled else "comment"


def _import(workbook, access: Access, user, status: str) -> dict:
    """Save the sheet's rows through `results_upsert`: rows as stored are skipped, so the same file
    can be uploaded again; a row whose result changed since the download and that gives another
    value is a conflict, answered with "download a fresh copy"."""
    if META_SHEET not in workbook.sheetnames:
        raise WorkbookErrors([CellError("", 0, "", gettext("Use the spreadsheet downloaded from this page."))])
    sheet = _Sheet(workbook.worksheets[0])
    errors: list[CellError] = []
    read: list[tuple[int, ResultRow]] = []
    for number, raw in enumerate(sheet.rows, start=FIRST_DATA_ROW):
        if number - FIRST_DATA_ROW >= MAX_ROWS:
            message = gettext("At most %(limit)s rows can be uploaded at once.") % {"limit": MAX_ROWS}
            raise WorkbookErrors([CellError(sheet.name, number, "", message)])
        values = dict(zip(KEYS, raw, strict=False))
        if all(v in (None, "") for v in values.values()):
            continue
        row, row_errors = _read_row(sheet, number, values)
        errors.extend(row_errors)
        if row is not None:
            read.append((number, row))
    programmes = dict(
        Indicator.objects.filter(pk__in={row.indicator_id for _number, row in read}).values_list("pk", "programme_id")
    )
    sent: list[tuple[int, ResultRow]] = []
    for number, row in read:
        programme_id = programmes.get(row.indicator_id)
        if programme_id is None or not access.can_enter_result(programme_id, row.municipality_id):
            message = gettext("You may not enter results for this indicator and municipality.")
            errors.append(sheet.error(number, "indicator_code", message))
        elif not row.has_numbers and row.version is not None:
            message = gettext("To remove a saved result, use the result entry page.")
            errors.append(sheet.error(number, "value", message))
        elif row.has_numbers or row.comment:
            sent.append((number, row))
    if errors:
        raise WorkbookErrors(sorted(errors, key=lambda e: (e.row, e.column)))
    try:
        outcome = results_upsert(rows=[row for _number, row in sent], user=user, status=status)
    except BulkValidationError as error:
        for row_error in error.errors:
            number, row = sent[row_error.row] if row_error.row < len(sent) else (0, None)
            if row_error.problem == RowProblem.CONFLICT and row is not None:
                errors.append(sheet.error(number, _conflict_column(row, row_error.field), str(CONFLICT_MESSAGE)))
            else:
                default = "status" if row_error.problem == RowProblem.LOCKED else "indicator_code"
                column = FIELD_COLUMN.get(row_error.field, default)
                errors.append(sheet.error(number, column, str(row_error.message)))
        raise WorkbookErrors(sorted(errors, key=lambda e: (e.row, e.column))) from error
    counts = outcome.counts
    return {key: counts[key] for key in ("created", "updated", "unchanged", "submitted")}
