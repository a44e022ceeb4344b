"""The alignment matrix of a programme: its indicators against every national target and the goals
of its donors. Ticking a cell and giving a weight aligns; the whole form is saved through one
service call (`indicators.services.alignments_set`), all or nothing, with errors per cell. Beside
it, what each national target and goal would count and which stay gaps, from the matrix as
submitted, so a "preview" shows the effect before anything is written.

Who: `Access.can_align` (the API's rule too) writes; whoever sees the programme reads (403 on a
write); anyone else gets 404."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods

from indicators.models import Alignment, FunderGoal, Indicator, NationalTarget
from indicators.services import AlignmentCell, BulkValidationError, alignments_set, clean_alignment_weight
from partners.models import Organisation
from projects.access import access_for
from projects.models import Programme

HISTORY_ROWS = 30


@dataclass
class Column:
    """A national target ("n") or a funder goal ("g") of the matrix."""

    kind: str
    obj: NationalTarget | FunderGoal
    depth: int = 0

    @property
    def key(self) -> str:
        return f"{self.kind}{self.obj.pk}"


@dataclass
class Cell:
    indicator: Indicator
    column: Column
    aligned: bool = False
    weight: str = "1"
    error: str = ""

    @property
    def name(self) -> str:
        """The form's name for this cell; its weight is `w-` the same."""
        return f"a-{self.indicator.pk}-{self.column.key}"


@dataclass
class Count:
    """What a column would count: its indicators (for a goal, with those of the goals below it)
    and their programmes; `gap` says why it stays a gap, if it does."""

    column: Column
    indicator_ids: set[int] = field(default_factory=set)
    programmes: list[Programme] = field(default_factory=list)
    gap: str = ""


def _goal_columns(goals: list[FunderGoal], donors: list[Organisation]) -> list[tuple[Organisation, list[Column]]]:
    """Goals grouped by donor, each donor's tree depth first, siblings by code."""
    children: dict[int | None, list[FunderGoal]] = defaultdict(list)
    known = {goal.pk for goal in goals}
    for goal in goals:
        children[goal.parent_id if goal.parent_id in known else None].append(goal)
    by_donor: dict[int, list[Column]] = defaultdict(list)

    def walk(goal: FunderGoal, depth: int) -> None:
        by_donor[goal.donor_id].append(Column("g", goal, depth))
        for child in sorted(children[goal.pk], key=lambda g: g.code):
            walk(child, depth + 1)

    for root in sorted(children[None], key=lambda g: g.code):
        walk(root, 0)
    return [(donor, by_donor[donor.pk]) for donor in donors if by_donor[donor.pk]]


def _descendants(goals: list[FunderGoal]) -> dict[int, set[int]]:
    """Each goal with every goal below it (itself included)."""
    parent = {goal.pk: goal.parent_id for goal in goals}
    below: dict[int, set[int]] = {goal.pk: {goal.pk} for goal in goals}
    for goal_id in parent:
        seen, ancestor = {goal_id}, parent[goal_id]
        while ancestor in below and ancestor not in seen:
            below[ancestor].add(goal_id)
            seen.add(ancestor)
            ancestor = parent[ancestor]
    return below


def _counts(
    programme: Programme,
    columns: list[Column],
    cells: list[list[Cell]],
    others: list[tuple[int, int, int | None, int | None]],
    goals: list[FunderGoal],
) -> list[Count]:
    """What each column would count with the matrix as it stands on the page, plus what the other
    programmes the user sees already align there (`others`: indicator, programme, target, goal).
    Gaps follow docs/design.md §5: a national target with no indicator; a goal none of whose
    indicators (its own or those of the goals below it) counts towards a national target."""
    programme_of: dict[int, int] = {}
    on_national: set[int] = set()
    to_target: dict[int, set[int]] = defaultdict(set)
    to_goal: dict[int, set[int]] = defaultdict(set)
    for indicator_id, programme_id, target_id, goal_id in others:
        programme_of[indicator_id] = programme_id
        if target_id is not None:
            to_target[target_id].add(indicator_id)
            on_national.add(indicator_id)
        else:
            to_goal[goal_id].add(indicator_id)
    for row in cells:
        for cell in row:
            if not cell.aligned:
                continue
            programme_of[cell.indicator.pk] = programme.pk
            if cell.column.kind == "n":
                to_target[cell.column.obj.pk].add(cell.indicator.pk)
                on_national.add(cell.indicator.pk)
            else:
                to_goal[cell.column.obj.pk].add(cell.indicator.pk)
    below = _descendants(goals)
    programmes = {
        p.pk: p
        for p in Programme.objects.filter(pk__in=set(programme_of.values())).only("id", "code", "name_en", "name_ar")
    }
    counts = []
    for column in columns:
        if column.kind == "n":
            ids = to_target[column.obj.pk]
            gap = gettext("No indicator is aligned.") if not ids else ""
        else:
            ids = set().union(*(to_goal[goal_id] for goal_id in below.get(column.obj.pk, {column.obj.pk})))
            if not ids:
                gap = gettext("No indicator is aligned.")
            elif not ids & on_national:
                gap = gettext("None of its indicators counts towards a national target.")
            else:
                gap = ""
        shown = sorted(
            {programme_of[i] for i in ids if programme_of[i] in programmes}, key=lambda pk: programmes[pk].code
        )
        counts.append(Count(column, ids, [programmes[pk] for pk in shown], gap))
    return counts


def _history(indicator_ids: list[int], labels: dict[tuple[str, int], str], codes: dict[int, str]) -> list[dict]:
    records = (
        Alignment.history.filter(indicator_id__in=indicator_ids)
        .select_related("history_user")
        .prefetch_related("history_user__memberships__organisation")
        .order_by("-history_date", "-history_id")[:HISTORY_ROWS]
    )
    rows = []
    for record in records:
        column = ("n", record.national_target_id) if record.national_target_id else ("g", record.funder_goal_id)
        rows.append(
            {
                "record": record,
                "indicator": codes.get(record.indicator_id, "—"),
                "column": labels.get(column, "—"),
                "weight": _weight_text(record.weight),
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def alignment_matrix(request, programme_id: int):
    access = access_for(request.user)
    programme = get_object_or_404(access.programmes(Programme.objects.all()), pk=programme_id)
    may_align = access.can_align(programme.pk)
    if request.method == "POST" and not may_align:
        raise PermissionDenied
    indicators = list(programme.indicators.order_by("code").only("id", "code", "name_en", "name_ar", "programme_id"))
    donors = list(programme.donors.order_by("name"))
    goals = list(
        FunderGoal.objects.filter(access.alignment_goal_filter(programme.pk)).only(
            "id", "code", "title_en", "title_ar", "donor_id", "parent_id"
        )
    )
    targets = [
        Column("n", target)
        for target in NationalTarget.objects.order_by("code").only("id", "code", "title_en", "title_ar")
    ]
    goal_groups = _goal_columns(goals, donors)
    columns = targets + [column for _donor, group in goal_groups for column in group]

    stored = {
        (a.indicator_id, "n" if a.national_target_id else "g", a.national_target_id or a.funder_goal_id): a
        for a in Alignment.objects.filter(indicator__programme=programme)
    }
    cells = []
    for indicator in indicators:
        row = []
        for column in columns:
            alignment = stored.get((indicator.pk, column.kind, column.obj.pk))
            cell = Cell(indicator, column, aligned=alignment is not None)
            if alignment is not None:
                cell.weight = _weight_text(alignment.weight)
            row.append(cell)
        cells.append(row)

    preview = False
    if request.method == "POST":
        preview = request.POST.get("action") == "preview"
        for row in cells:
            for cell in row:
                cell.aligned = request.POST.get(cell.name) == "on"
                cell.weight = request.POST.get(f"w-{cell.name[2:]}", "").strip()
        flat = [cell for row in cells for cell in row]
        if preview:
            _check_weights(flat)
        else:
            try:
                outcome = alignments_set(
                    cells=[
                        AlignmentCell(
                            indicator=cell.indicator,
                            national_target=cell.column.obj if cell.column.kind == "n" else None,
                            funder_goal=cell.column.obj if cell.column.kind == "g" else None,
                            aligned=cell.aligned,
                            weight=cell.weight or None,
                        )
                        for cell in flat
                    ],
                    user=request.user,
                )
            except BulkValidationError as error:
                for row_error in error.errors:
                    flat[row_error.row].error = str(row_error.message)
            else:
                changes = len(outcome.created) + len(outcome.updated) + len(outcome.deleted)
                messages.success(
                    request,
                    ngettext("%(count)d alignment was changed.", "%(count)d alignments were changed.", changes)
                    % {"count": changes},
                )
                return redirect("setup_alignment", programme_id=programme.pk)

    others = list(
        Alignment.objects.filter(access.alignment_filter())
        .exclude(indicator__programme=programme)
        .filter(Q(national_target__isnull=False) | Q(funder_goal__in=[goal.pk for goal in goals]))
        .values_list("indicator_id", "indicator__programme_id", "national_target_id", "funder_goal_id")
    )
    counts = _counts(programme, columns, cells, others, goals)
    labels = {(column.kind, column.obj.pk): column.obj.code for column in columns}
    errors = sum(1 for row in cells for cell in row if cell.error)
    return render(
        request,
        "web/setup/alignment.html",
        {
            "programme": programme,
            "may_align": may_align,
            "targets": targets,
            "goal_groups": goal_groups,
            "columns": columns,
            "rows": list(zip(indicators, cells, strict=True)),
            "counts": counts,
            "target_counts": counts[: len(targets)],
            "goal_counts": counts[len(targets) :],
            "preview": preview,
            "errors": errors,
            "history": _history([i.pk for i in indicators], labels, {i.pk: i.code for i in indicators}),
        },
    )


def _weight_text(weight) -> str:
    """1.0000 as "1", 0.5000 as "0.5": what a person would type."""
    return format(weight.normalize(), "f")


def _check_weights(cells: list[Cell]) -> None:
    for cell in cells:
        if cell.aligned and cell.weight:
            try:
                clean_alignment_weight(cell.weight)
            except ValidationError as error:
                cell.error = " ".join(error.messages)


urlpatterns = [
    path("programmes/<int:programme_id>/alignment/", alignment_matrix, name="setup_alignment"),
]
