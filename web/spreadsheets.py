"""The offline Excel round-trip: a pre-filled workbook for one programme, municipality and date,
filled in offline, uploaded and validated all or nothing through the result services.

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

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from common.spreadsheets import spreadsheet_cell, unescape_formula
from common.validation import messages_by_field
from indicators import periods
from indicators.models import DisaggregationOption, Indicator, Result
from indicators.services import (
    BulkValidationError,
    ResultRow,
    StaleVersion,
    result_submit,
    result_update,
    results_create,
)
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
FIELD_COLUMN = {"value": "value", "numerator": "numerator", "denominator": "denominator", "comment": "comment"}
HEADER_ROW, KEY_ROW, FIRST_DATA_ROW = 2, 1, 3


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


def _number(value: Decimal | None):
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
        header_font = Font(bold=True)
        unlocked = Protection(locked=False)
        editable_fill = PatternFill("solid", fgColor="FFF7D6")
        for index, (key, header, hidden, _editable) in enumerate(COLUMNS, start=1):
            sheet.cell(KEY_ROW, index, key)
            cell = sheet.cell(HEADER_ROW, index, str(header))
            cell.font = header_font
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
                "value": _number(result.value)
                if result and indicator.measure != Indicator.Measure.PERCENTAGE
                else None,
                "numerator": _number(result.numerator) if result else None,
                "denominator": _number(result.denominator) if result else None,
                "comment": result.comment if result else "",
            }
            locked = result is not None and result.status == Result.Status.APPROVED
            for index, (key, _header, _hidden, editable) in enumerate(COLUMNS, start=1):
                cell = sheet.cell(row_number, index, spreadsheet_cell(values[key]))
                if isinstance(values[key], str):
                    cell.data_type = "s"
                if editable and not locked:
                    cell.protection = unlocked
                    cell.fill = editable_fill
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
        sheet.protection.sheet = True
        sheet.protection.formatColumns = False
        sheet.protection.formatRows = False

        notes = workbook.create_sheet(str(_("Instructions"))[:31])
        notes.sheet_view.rightToLeft = rtl
        notes.column_dimensions["A"].width = 110
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
        for index, line in enumerate(lines, start=1):
            notes.cell(index, 1, spreadsheet_cell(line)).alignment = Alignment(wrap_text=True)
        meta = workbook.create_sheet("_meta")
        meta.sheet_state = "hidden"
        meta["A1"], meta["B1"] = "format", FORMAT
        meta["A2"], meta["B2"] = "programme", programme.pk
        meta["A3"], meta["B3"] = "municipality", municipality.pk
        meta["A4"], meta["B4"] = "language", language
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


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


def _open(upload) -> Workbook:
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


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unescape_formula(str(value).strip())


def _as_decimal(value) -> tuple[Decimal | None, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, gettext("Enter a number, for example 12 or 12.5.")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)), None
    return parse_decimal(str(value))


@dataclass
class _Row:
    number: int
    values: dict
    result_id: int | None = None
    version: int | None = None
    indicator_id: int | None = None
    municipality_id: int | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    category: str = ""
    option: str = ""


def import_workbook(*, upload, access: Access, user, status: str) -> dict:
    workbook = _open(upload)
    try:
        return _import(workbook, access, user, status)
    finally:
        workbook.close()


def _import(workbook, access: Access, user, status: str) -> dict:
    if "_meta" not in workbook.sheetnames:
        raise WorkbookErrors([CellError("", 0, "", gettext("Use the spreadsheet downloaded from this page."))])
    sheet = workbook.worksheets[0]
    name = sheet.title
    errors: list[CellError] = []
    rows_iter = sheet.iter_rows(values_only=True)
    keys = [str(k) if k is not None else "" for k in next(rows_iter, ())]
    headers = next(rows_iter, ())
    if keys[: len(KEYS)] != KEYS:
        raise WorkbookErrors([CellError(name, 1, "", gettext("The columns were changed; download a new spreadsheet."))])
    column_label = {
        key: f"{get_column_letter(i + 1)} ({headers[i] if i < len(headers) and headers[i] else key})"
        for i, key in enumerate(KEYS)
    }
    rows: list[_Row] = []
    for number, raw in enumerate(rows_iter, start=FIRST_DATA_ROW):
        if number - FIRST_DATA_ROW >= MAX_ROWS:
            raise WorkbookErrors(
                [
                    CellError(
                        name,
                        number,
                        "",
                        gettext("At most %(limit)s rows can be uploaded at once.") % {"limit": MAX_ROWS},
                    )
                ]
            )
        values = dict(zip(KEYS, raw, strict=False))
        if all(v in (None, "") for v in values.values()):
            continue
        row = _Row(number=number, values=values)
        try:
            row.result_id = int(values["result_id"]) if values.get("result_id") not in (None, "") else None
            row.version = int(values["version"]) if values.get("version") not in (None, "") else None
            row.indicator_id = int(values["indicator_id"])
            row.municipality_id = int(values["municipality_id"])
            row.period_start = datetime.date.fromisoformat(_as_text(values["period_start"]))
            row.period_end = datetime.date.fromisoformat(_as_text(values["period_end"]))
        except (TypeError, ValueError):
            errors.append(
                CellError(
                    name,
                    number,
                    column_label["indicator_code"],
                    gettext("The hidden identifiers of this row were changed."),
                )
            )
            continue
        row.category = _as_text(values.get("category"))
        row.option = _as_text(values.get("option"))
        rows.append(row)
    indicators = dict(Indicator.objects.filter(pk__in={r.indicator_id for r in rows}).values_list("pk", "programme_id"))
    existing = {
        r.pk: r
        for r in Result.objects.filter(pk__in={r.result_id for r in rows if r.result_id}).filter(access.result_filter())
    }
    counts = {"created": 0, "updated": 0, "submitted": 0}
    creates: list[tuple[_Row, ResultRow]] = []
    try:
        with transaction.atomic():
            for row in rows:
                programme_id = indicators.get(row.indicator_id)
                if programme_id is None or not access.can_enter_result(programme_id, row.municipality_id):
                    errors.append(
                        CellError(
                            name,
                            row.number,
                            column_label["indicator_code"],
                            gettext("You may not enter results for this indicator and municipality."),
                        )
                    )
                    continue
                numbers, bad = {}, False
                for key in ("value", "numerator", "denominator"):
                    number, message = _as_decimal(row.values.get(key))
                    if message:
                        errors.append(CellError(name, row.number, column_label[key], message))
                        bad = True
                    numbers[key] = number
                if bad:
                    continue
                comment = _as_text(row.values.get("comment"))
                blank = all(v is None for v in numbers.values())
                if row.result_id is None:
                    if blank and not comment:
                        continue
                    creates.append(
                        (
                            row,
                            ResultRow(
                                indicator_id=row.indicator_id,
                                municipality_id=row.municipality_id,
                                period_start=row.period_start,
                                period_end=row.period_end,
                                disaggregation={row.category: row.option} if row.category else {},
                                comment=comment,
                                **numbers,
                            ),
                        )
                    )
                    continue
                result = existing.get(row.result_id)
                if result is None or (
                    result.indicator_id,
                    result.municipality_id,
                    result.period_start,
                    result.disaggregation_category,
                    result.disaggregation_option,
                ) != (row.indicator_id, row.municipality_id, row.period_start, row.category, row.option):
                    errors.append(
                        CellError(
                            name,
                            row.number,
                            column_label["indicator_code"],
                            gettext("The hidden identifiers of this row were changed."),
                        )
                    )
                    continue
                if result.indicator.measure == Indicator.Measure.PERCENTAGE:
                    numbers.pop("value")
                changes = {k: v for k, v in numbers.items() if v != getattr(result, k)}
                if comment != result.comment:
                    changes["comment"] = comment
                if not changes:
                    continue
                if blank:
                    errors.append(
                        CellError(
                            name,
                            row.number,
                            column_label["value"],
                            gettext("To remove a saved result, use the result entry page."),
                        )
                    )
                    continue
                try:
                    result_update(result=result, user=user, expected_version=row.version, **changes)
                    counts["updated"] += 1
                except StaleVersion as error:
                    errors.append(CellError(name, row.number, column_label["status"], str(error)))
                except ValidationError as error:
                    for field_name, messages in messages_by_field(error).items():
                        column = column_label.get(FIELD_COLUMN.get(field_name, "status"))
                        errors.extend(CellError(name, row.number, column, m) for m in messages)
            if creates and not errors:
                try:
                    results_create(rows=[r for _row, r in creates], user=user, status=Result.Status.DRAFT)
                    counts["created"] = len(creates)
                except BulkValidationError as error:
                    for row_error in error.errors:
                        row = creates[row_error.row][0] if row_error.row < len(creates) else None
                        column = column_label.get(FIELD_COLUMN.get(row_error.field, "indicator_code"))
                        errors.append(CellError(name, row.number if row else 0, column, str(row_error.message)))
            if errors:
                raise WorkbookErrors(sorted(errors, key=lambda e: (e.row, e.column)))
            if status == Result.Status.SUBMITTED:
                keys = {(r.indicator_id, r.municipality_id, r.period_start, r.category, r.option) for r in rows}
                candidates = Result.objects.filter(
                    indicator_id__in={k[0] for k in keys},
                    municipality_id__in={k[1] for k in keys},
                    period_start__in={k[2] for k in keys},
                    status__in=[Result.Status.DRAFT, Result.Status.RETURNED],
                )
                for result in candidates:
                    key = (
                        result.indicator_id,
                        result.municipality_id,
                        result.period_start,
                        result.disaggregation_category,
                        result.disaggregation_option,
                    )
                    if key in keys:
                        result_submit(result=result, user=user)
                        counts["submitted"] += 1
    except WorkbookErrors:
        raise
    return counts
