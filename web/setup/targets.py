"""Targets of an indicator, kept by the programme's editors: a grid of the programme's
municipalities (and the programme as a whole) × the indicator's periods, plus the
life-of-programme (LoP) target. Typed on the page, pasted from Excel (static/js/target-grid.js),
or filled offline in a workbook; every path writes through `indicators.services.targets_upsert`,
all or nothing, so the rules and the recompute stay in the service. The page and the workbook send
each cell's value as it was loaded too (a hidden JSON field, a hidden `_loaded` sheet), so that two
editors of one grid do not silently overwrite each other."""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from common.spreadsheets import spreadsheet_cell
from indicators.models import Indicator, Target
from indicators.services import NOT_LOADED, BulkValidationError, TargetCell, TargetConflict, targets_upsert
from partners.models import Membership, Organisation
from projects.access import access_for
from projects.models import Programme
from projects.selectors import programme_municipalities

from .. import selectors, spreadsheets
from ..charts import period_label
from ..forms import UploadForm
from ..results import parse_decimal

Period = tuple[datetime.date, datetime.date]
PROGRAMME_KEY = "all"
LOP_KEY = "lop"
LOADED_FIELD = "loaded"
SHEET_FORMAT = "twinning-targets-1"
LOADED_SHEET = "_loaded"
HISTORY_ROWS = 20
FILE_CHANGED_MESSAGE = _(
    "Someone else changed this target to %(value)s after this file was downloaded; download a fresh copy "
    "and enter your change there."
)
FILE_DELETED_MESSAGE = _(
    "Someone else deleted this target after this file was downloaded; download a fresh copy and enter "
    "your change there."
)


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


@dataclass
class GridCell:
    """One input of the grid. `row` and `col` are the cell's place in the data (row 0 is the
    programme as a whole, columns are periods in order), which a paste follows. `loaded` is the
    text the cell showed when the page was opened or the sheet downloaded (None: not known), so
    that the save can tell a cell changed here from one changed by someone else meanwhile."""

    name: str
    municipality_id: int | None
    period: Period | None
    row: int
    col: int
    text: str = ""
    loaded: str | None = None
    errors: list[str] = field(default_factory=list)
    conflict: bool = False  # someone else changed it since it was loaded

    def as_target(self, value: Decimal | None) -> TargetCell:
        start, end = self.period or (None, None)
        loaded, error = parse_decimal(self.loaded) if self.loaded is not None else (None, "unknown")
        # A snapshot that is not a number was not written by us: the cell is saved unchecked.
        return TargetCell(self.municipality_id, start, end, value, NOT_LOADED if error else loaded)


@dataclass
class GridRow:
    key: str
    municipality: Organisation | None
    cells: list[GridCell]


class TargetGrid:
    """The indicator's targets as the page shows them, and the cells a POST or a sheet gives."""

    def __init__(self, *, indicator: Indicator, municipalities: list[Organisation], periods: list[Period]):
        self.indicator = indicator
        self.periods = periods
        stored = {
            (t.municipality_id, t.period_start, t.period_end): t.value
            for t in Target.objects.filter(indicator=indicator, period_start__in=[p[0] for p in periods])
        }
        self.rows: list[GridRow] = []
        for row_number, municipality in enumerate([None, *municipalities]):
            key = PROGRAMME_KEY if municipality is None else str(municipality.pk)
            municipality_id = None if municipality is None else municipality.pk
            cells = [
                GridCell(
                    name=f"t-{key}-{start.isoformat()}",
                    municipality_id=municipality_id,
                    period=(start, end),
                    row=row_number,
                    col=col,
                    text=_text(stored.get((municipality_id, start, end))),
                )
                for col, (start, end) in enumerate(periods)
            ]
            self.rows.append(GridRow(key, municipality, cells))
        self.lop = GridCell(LOP_KEY, None, None, row=-1, col=-1, text=_text(indicator.lop_target))
        for cell in self.cells:
            cell.loaded = cell.text

    @property
    def cells(self) -> list[GridCell]:
        return [cell for row in self.rows for cell in row.cells] + [self.lop]

    @property
    def has_errors(self) -> bool:
        return any(cell.errors for cell in self.cells)

    @property
    def has_conflicts(self) -> bool:
        return any(cell.conflict for cell in self.cells)

    @property
    def period_names(self) -> list[tuple[Period, str]]:
        fiscal = self.indicator.programme.fiscal_year_start_month
        return [
            ((start, end), period_label(start, end, frequency=self.indicator.frequency, fiscal_year_start_month=fiscal))
            for start, end in self.periods
        ]

    @property
    def loaded_json(self) -> str:
        """What each cell showed when the page was first opened (kept across a refused save, so
        that saving again is checked against the same values), for the form's hidden field."""
        return json.dumps({cell.name: cell.loaded for cell in self.cells if cell.loaded is not None})

    def bind(self, data) -> list[GridCell]:
        """The cells the form sent, with what was typed and what they showed when the page was
        opened (a form without that snapshot is saved unchecked, as before). A cell the form did
        not send (a municipality that joined after the page was opened) is left as stored, not
        emptied."""
        try:
            snapshot = json.loads(data.get(LOADED_FIELD) or "{}")
        except ValueError:
            snapshot = {}
        if not isinstance(snapshot, dict):
            snapshot = {}
        posted = []
        for cell in self.cells:
            if cell.name in data:
                cell.text = (data.get(cell.name) or "").strip()
                loaded = snapshot.get(cell.name)
                cell.loaded = loaded if isinstance(loaded, str) else None
                posted.append(cell)
        return posted

    def save(
        self, *, user, grid_cells: list[GridCell], conflict: Callable[[TargetConflict], str] | None = None
    ) -> dict[str, int] | None:
        """Write these cells, all or none; None (nothing written) when a cell is wrong, its
        message on the cell. `conflict` words a cell someone else changed meanwhile in the
        caller's terms (the service speaks of the page)."""
        targets = []
        for cell in grid_cells:
            value, error = parse_decimal(cell.text)
            if error:
                cell.errors.append(error)
            targets.append(cell.as_target(value))
        if any(cell.errors for cell in grid_cells):
            return None
        try:
            return targets_upsert(indicator=self.indicator, cells=targets, user=user)
        except BulkValidationError as error:
            for row_error in error.errors:
                if row_error.row < len(grid_cells):
                    cell, message = grid_cells[row_error.row], str(row_error.message)
                    if isinstance(row_error, TargetConflict):
                        cell.conflict = True
                        if conflict is not None:
                            message = conflict(row_error)
                    cell.errors.append(message)
            return None


# The offline workbook ------------------------------------------------------------------------
#
# One sheet shaped like the grid: a hidden first row of keys (period starts), a hidden first column
# of municipality ids (`all` for the programme, `lop` for the LoP target's row), a header row of
# period names, then one row per municipality. Errors name the sheet's own cell ("C7"). A hidden
# `_loaded` sheet keyed the same way keeps the values as downloaded, which the upload sends as each
# cell's loaded value: a cell changed in the file that someone else changed since the download is
# refused, and one left as downloaded keeps what they saved. A file without that sheet (one made
# before it existed) is saved unchecked.

KEY_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3
FIRST_PERIOD_COLUMN = 3  # A: hidden ids, B: names


def build_workbook(grid: TargetGrid, *, language: str) -> bytes:
    with translation.override(language):
        rtl = translation.get_language_bidi()
        indicator = grid.indicator
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = str(_("Targets"))[:31]
        sheet.sheet_view.rightToLeft = rtl
        sheet.cell(KEY_ROW, 1, "municipality_id")
        sheet.cell(KEY_ROW, 2, "name")
        sheet.cell(HEADER_ROW, 1, str(_("Municipality id")))
        sheet.cell(HEADER_ROW, 2, str(_("Municipality"))).font = spreadsheets.HEADER_FONT
        for offset, ((start, end), name) in enumerate(grid.period_names):
            column = FIRST_PERIOD_COLUMN + offset
            sheet.cell(KEY_ROW, column, start.isoformat())
            header = sheet.cell(
                HEADER_ROW, column, spreadsheet_cell(f"{name}\n{start.isoformat()} – {end.isoformat()}")
            )
            header.font = spreadsheets.HEADER_FONT
            header.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.column_dimensions[get_column_letter(column)].width = 14
        sheet.row_dimensions[KEY_ROW].hidden = True
        sheet.column_dimensions["A"].hidden = True
        sheet.column_dimensions["B"].width = 36
        sheet.freeze_panes = sheet.cell(FIRST_ROW, FIRST_PERIOD_COLUMN)
        number = FIRST_ROW
        for row in grid.rows:
            name = str(_("Whole programme")) if row.municipality is None else row.municipality.name
            sheet.cell(number, 1, row.key)
            sheet.cell(number, 2, spreadsheet_cell(name)).data_type = "s"
            for offset, cell in enumerate(row.cells):
                value, _error = parse_decimal(cell.text)
                spreadsheets.make_editable(
                    sheet.cell(number, FIRST_PERIOD_COLUMN + offset, spreadsheets.excel_number(value))
                )
            number += 1
        sheet.cell(number, 1, LOP_KEY)
        sheet.cell(number, 2, str(_("Life-of-programme (LoP) target"))).font = spreadsheets.HEADER_FONT
        lop_value, _error = parse_decimal(grid.lop.text)
        spreadsheets.make_editable(sheet.cell(number, FIRST_PERIOD_COLUMN, spreadsheets.excel_number(lop_value)))
        last_column = get_column_letter(FIRST_PERIOD_COLUMN + max(len(grid.periods), 1) - 1)
        numbers = DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            error=str(_("Enter a number of at least 0.")),
        )
        sheet.add_data_validation(numbers)
        numbers.add(f"{get_column_letter(FIRST_PERIOD_COLUMN)}{FIRST_ROW}:{last_column}{number}")
        spreadsheets.protect(sheet)
        programme = indicator.programme
        spreadsheets.write_instructions(
            workbook,
            [
                str(_("Targets of indicator %(code)s (%(name)s), programme %(programme)s."))
                % {"code": indicator.code, "name": indicator.name, "programme": programme.code},
                str(
                    _(
                        "Fill in the yellow cells: one row per municipality, one column per period, and the "
                        "first row for the programme as a whole. An empty cell means no target: a target "
                        "stored there is deleted."
                    )
                ),
                str(_("The last row holds the life-of-programme (LoP) target, in its first yellow cell.")),
                str(_("Do not add, remove or reorder rows or columns: hidden cells identify each target.")),
                str(
                    _(
                        "Upload the file on the targets page. If any cell is wrong nothing is saved, and the "
                        "page lists every problem by its cell (for example C7)."
                    )
                ),
            ],
            rtl=rtl,
        )
        spreadsheets.write_meta(
            workbook,
            {"format": SHEET_FORMAT, "indicator": indicator.pk, "programme": programme.pk, "language": language},
        )
        _write_loaded(workbook, grid)
        return spreadsheets.saved(workbook)


def _write_loaded(workbook: Workbook, grid: TargetGrid) -> None:
    """The values as downloaded, as text (exact, as the page's snapshot), laid out like the
    targets sheet: period starts in row 1, row keys in column A."""
    sheet = workbook.create_sheet(LOADED_SHEET)
    sheet.sheet_state = "hidden"
    for offset, (start, _end) in enumerate(grid.periods):
        sheet.cell(KEY_ROW, FIRST_PERIOD_COLUMN + offset, start.isoformat())
    number = FIRST_ROW
    for row in grid.rows:
        sheet.cell(number, 1, row.key)
        for offset, cell in enumerate(row.cells):
            if cell.text:
                sheet.cell(number, FIRST_PERIOD_COLUMN + offset, cell.text)
        number += 1
    sheet.cell(number, 1, LOP_KEY)
    if grid.lop.text:
        sheet.cell(number, FIRST_PERIOD_COLUMN, grid.lop.text)
    spreadsheets.protect(sheet)


def _read_loaded(workbook) -> dict[tuple[str, str], str] | None:
    """(row key, period start or `lop`) → the value as downloaded ("" for an empty cell), from
    `_write_loaded`'s sheet; None when the file has no such sheet."""
    if LOADED_SHEET not in workbook.sheetnames:
        return None
    rows = spreadsheets.readable_rows(workbook[LOADED_SHEET])
    keys = [spreadsheets.as_text(value) for value in next(rows, ())]
    loaded: dict[tuple[str, str], str] = {}
    for values in rows:
        key = spreadsheets.as_text(values[0]) if values else ""
        if not key:
            continue
        texts = [spreadsheets.as_text(value) for value in values]
        if key == LOP_KEY:
            columns = [(FIRST_PERIOD_COLUMN - 1, LOP_KEY)]
        else:
            columns = [(index, keys[index]) for index in range(FIRST_PERIOD_COLUMN - 1, len(keys)) if keys[index]]
        for index, column_key in columns:
            loaded[(key, column_key)] = texts[index] if index < len(texts) else ""
    return loaded


def _file_conflict(conflict: TargetConflict) -> str:
    if conflict.current is None:
        return str(FILE_DELETED_MESSAGE)
    return str(FILE_CHANGED_MESSAGE % {"value": _text(conflict.current)})


def _sheet_error(sheet_name: str, row: int, column: int, message: str) -> spreadsheets.CellError:
    return spreadsheets.CellError(sheet_name, row, get_column_letter(column) if column else "", message)


def import_workbook(upload, grid: TargetGrid, *, user) -> dict[str, int]:
    workbook = spreadsheets.open_workbook(upload)
    try:
        return _import(workbook, grid, user)
    finally:
        workbook.close()


def _import(workbook, grid: TargetGrid, user) -> dict[str, int]:
    """The sheet's cells, read back into the grid's cells by their hidden keys, then saved like
    the grid. Every problem is answered with the sheet's own cell reference."""
    meta = spreadsheets.read_meta(workbook)
    if meta is None or meta.get("format") != SHEET_FORMAT:
        raise spreadsheets.WorkbookErrors(
            [spreadsheets.CellError("", 0, "", gettext("Use the spreadsheet downloaded from this page."))]
        )
    if meta.get("indicator") != str(grid.indicator.pk):
        message = gettext("This spreadsheet holds the targets of another indicator; open that indicator to upload it.")
        raise spreadsheets.WorkbookErrors([spreadsheets.CellError("", 0, "", message)])
    source = workbook.worksheets[0]
    name = source.title
    rows = spreadsheets.readable_rows(source)
    keys = [spreadsheets.as_text(value) for value in next(rows, ())]
    expected = [start.isoformat() for start, _end in grid.periods]
    changed = gettext("The columns were changed; download a new spreadsheet.")
    if keys[FIRST_PERIOD_COLUMN - 1 : FIRST_PERIOD_COLUMN - 1 + len(expected)] != expected:
        raise spreadsheets.WorkbookErrors([spreadsheets.CellError(name, KEY_ROW, "", changed)])
    next(rows, None)  # the header row
    by_key = {row.key: row for row in grid.rows}
    loaded = _read_loaded(workbook) or {}
    placed: list[tuple[GridCell, int, int]] = []  # (grid cell, sheet row, sheet column)
    errors: list[spreadsheets.CellError] = []
    for number, values in enumerate(rows, start=FIRST_ROW):
        if number - FIRST_ROW >= spreadsheets.MAX_ROWS:
            message = gettext("At most %(limit)s rows can be uploaded at once.") % {"limit": spreadsheets.MAX_ROWS}
            raise spreadsheets.WorkbookErrors([spreadsheets.CellError(name, number, "", message)])
        if not values or all(value in (None, "") for value in values):
            continue
        key = spreadsheets.as_text(values[0])
        cells: list[tuple[GridCell, int, str]]  # (grid cell, sheet column, column key)
        if key == LOP_KEY:
            cells = [(grid.lop, FIRST_PERIOD_COLUMN, LOP_KEY)]
        elif key in by_key:
            cells = [
                (cell, FIRST_PERIOD_COLUMN + offset, start.isoformat())
                for offset, (cell, (start, _end)) in enumerate(zip(by_key[key].cells, grid.periods, strict=True))
            ]
        else:
            message = gettext("This row is not a municipality of the programme; download a new spreadsheet.")
            errors.append(_sheet_error(name, number, 2, message))
            continue
        for cell, column, column_key in cells:
            raw = values[column - 1] if column - 1 < len(values) else None
            value, message = spreadsheets.as_decimal(raw)
            cell.text = "" if value is None else format(value, "f")
            cell.loaded = loaded.get((key, column_key))
            cell.errors = []
            if message:
                errors.append(_sheet_error(name, number, column, message))
            placed.append((cell, number, column))
    if errors:
        raise spreadsheets.WorkbookErrors(errors)
    outcome = grid.save(user=user, grid_cells=[cell for cell, _row, _column in placed], conflict=_file_conflict)
    if outcome is None:
        raise spreadsheets.WorkbookErrors(
            [_sheet_error(name, number, column, message) for cell, number, column in placed for message in cell.errors]
        )
    return outcome


# The page ----------------------------------------------------------------------------------


class TargetUploadForm(UploadForm):
    status = None  # targets have no workflow

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "At most 2 MB. Use the spreadsheet downloaded from this page for this indicator."
        )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _history(indicator: Indicator) -> list:
    return list(
        Target.history.filter(indicator_id=indicator.pk)
        .select_related("municipality")
        .prefetch_related(
            Prefetch("history_user__memberships", queryset=Membership.objects.select_related("organisation"))
        )
        .order_by("-history_date", "-history_id")[:HISTORY_ROWS]
    )


def _saved_message(counts: dict[str, int]) -> str:
    if not (counts["created"] or counts["updated"] or counts["deleted"]):
        saved = gettext("Nothing changed: the targets were already as entered.")
    else:
        saved = gettext("The targets were saved.")
    if not counts.get("kept"):
        return saved
    # Cells left as they were opened while someone else changed them keep the newer value: said,
    # so the grid shown next does not surprise whoever saved.
    kept = ngettext(
        "%(count)d target you did not change was changed by someone else after you opened the page: "
        "it keeps their value, shown below.",
        "%(count)d targets you did not change were changed by someone else after you opened the page: "
        "they keep their values, shown below.",
        counts["kept"],
    ) % {"count": counts["kept"]}
    return f"{saved} {kept}"


@login_required
@require_http_methods(["GET", "POST"])
def target_grid(request, programme_id: int):
    access = access_for(request.user)
    programme = get_object_or_404(access.programmes(Programme.objects.all()), pk=programme_id)
    can_edit = access.can_edit_programme_id(programme.pk)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    indicators = list(programme.indicators.order_by("code"))
    params = request.POST if request.method == "POST" else request.GET
    wanted = params.get("indicator")
    if wanted:
        indicator = next((i for i in indicators if i.pk == _int(wanted)), None)
        if indicator is None:
            raise Http404
    else:
        indicator = indicators[0] if indicators else None
    context = {"programme": programme, "indicators": indicators, "indicator": indicator, "can_edit": can_edit}
    if indicator is None:
        if request.method == "POST":
            raise Http404
        return render(request, "web/setup/targets.html", context)
    indicator.programme = programme
    # Sorted by the name shown (an Arabic name may be missing; the English one is shown then).
    municipalities = sorted(programme_municipalities(programme), key=lambda m: (m.name or "").casefold())
    periods = selectors.indicator_periods(indicator)
    context["grid"] = grid = TargetGrid(indicator=indicator, municipalities=municipalities, periods=periods)
    context["upload_form"] = form = TargetUploadForm(
        request.POST if request.POST.get("action") == "upload" else None, request.FILES or None
    )
    here = f"{reverse('setup_target_grid', args=[programme.pk])}?{urlencode({'indicator': indicator.pk})}"
    if request.method == "GET" and request.GET.get("download"):
        response = HttpResponse(
            build_workbook(grid, language=request.LANGUAGE_CODE), content_type=spreadsheets.XLSX_CONTENT_TYPE
        )
        filename = f"targets-{programme.code}-{indicator.code}.xlsx"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
    if request.method == "POST" and request.POST.get("action") == "upload":
        if form.is_valid():
            try:
                counts = import_workbook(form.cleaned_data["file"], grid, user=request.user)
            except spreadsheets.WorkbookErrors as errors:
                context["import_errors"] = errors.errors
                # The grid shows what is stored, not the refused file.
                context["grid"] = TargetGrid(indicator=indicator, municipalities=municipalities, periods=periods)
            else:
                messages.success(request, _saved_message(counts))
                return redirect(here)
        context["history"] = _history(indicator)
        return render(request, "web/setup/targets.html", context, status=400)
    if request.method == "POST":
        counts = grid.save(user=request.user, grid_cells=grid.bind(request.POST))
        if counts is not None:
            messages.success(request, _saved_message(counts))
            return redirect(here)
        context["save_failed"] = True
        context["history"] = _history(indicator)
        return render(request, "web/setup/targets.html", context, status=400)
    context["history"] = _history(indicator)
    return render(request, "web/setup/targets.html", context)


urlpatterns = [
    path("programmes/<int:programme_id>/targets/", target_grid, name="setup_target_grid"),
]
