"""Set-up pages of the frameworks that indicators count towards: the ministry's national targets and
each donor's goal tree. They write through `indicators.services`, so the pages refuse what the API
and the admin refuse, with the same messages, next to the field; `projects.access` decides who
reads (404 outside one's view) and who writes (403 for those who only read)."""

from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, UniqueConstraint
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from common.validation import messages_by_field
from indicators import services
from indicators.models import FunderGoal, NationalTarget
from indicators.sdg import sdg_goals, sdg_targets
from partners.models import Organisation
from projects.access import access_for

from ..forms import PageDateField, language_text_field, page_languages
from .history import field_labels, history_rows, related_ids

NATIONAL_TARGET_HISTORY_FIELDS = (
    "code",
    "title_en",
    "title_ar",
    "description_en",
    "description_ar",
    "owner",
    "deadline",
    "sdg_targets",
)
FUNDER_GOAL_HISTORY_FIELDS = (
    "code",
    "title_en",
    "title_ar",
    "description_en",
    "description_ar",
    "parent",
    "sdg_targets",
)


def _same(stored, given) -> bool:
    """Nothing stored (None) and an empty box are the same value: no change, no history row."""
    if stored in (None, "") and given in (None, ""):
        return True
    return stored == given


# Forms ----------------------------------------------------------------------------------------


class SdgTargetsField(forms.MultipleChoiceField):
    """The SDG targets ticked in the picker. Which codes exist is the services' rule
    (`_clean_sdg_targets`), so a code that is not an SDG target is named in their message."""

    widget = forms.CheckboxSelectMultiple

    def valid_value(self, value) -> bool:
        return True


@dataclass
class SdgOption:
    code: str
    title: str
    checked: bool
    id: str


@dataclass
class SdgGroup:
    code: str
    title: str
    options: list[SdgOption] = field(default_factory=list)

    @property
    def chosen(self) -> int:
        return sum(option.checked for option in self.options)


def sdg_picker(chosen: list[str]) -> list[SdgGroup]:
    """The 169 targets grouped by goal, titled in the page's language, the chosen ones ticked.
    Codes chosen that are not on the list (stored before the list was checked, or typed into a
    request) stay visible and ticked in a group of their own, so nothing is dropped unseen."""
    language, chosen_set = page_languages()[0], set(chosen)
    groups = [
        SdgGroup(
            code=goal.code,
            title=goal.title(language),
            options=[
                SdgOption(
                    target.code,
                    target.title(language),
                    target.code in chosen_set,
                    "id_sdg_targets_" + target.code.replace(".", "_"),
                )
                for target in goal.targets
            ],
        )
        for goal in sdg_goals()
    ]
    known = sdg_targets()
    others = [code for code in dict.fromkeys(chosen) if code not in known]
    if others:
        groups.append(
            SdgGroup(
                code="",
                title=gettext("Codes that are not SDG targets"),
                options=[SdgOption(code, "", True, f"id_sdg_targets_other_{n}") for n, code in enumerate(others)],
            )
        )
    return groups


class FrameworkForm(forms.Form):
    """Fields both frameworks share; the page's language is asked first, and one language of
    the title is enough (the model's rule, `common.translations`)."""

    code = forms.CharField(
        label=_("Code"), max_length=40, widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"})
    )
    title_en = language_text_field(_("Title (English)"), language="en", max_length=300)
    title_ar = language_text_field(_("Title (Arabic)"), language="ar", max_length=300)
    description_en = language_text_field(_("Description (English)"), language="en", textarea=True)
    description_ar = language_text_field(_("Description (Arabic)"), language="ar", textarea=True)
    sdg_targets = SdgTargetsField(label=_("SDG targets"), required=False)

    model: type = NationalTarget

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order = page_languages()
        self.fields[f"title_{order[0]}"].help_text = _("Give the title in English, in Arabic or in both.")
        self.title_fields = [self[f"title_{language}"] for language in order]
        self.description_fields = [self[f"description_{language}"] for language in order]

    def chosen_sdg_targets(self) -> list[str]:
        if self.is_bound:
            return [code.strip() for code in self.data.getlist("sdg_targets") if code.strip()]
        return list(self.initial.get("sdg_targets") or [])

    def sdg_groups(self) -> list[SdgGroup]:
        return sdg_picker(self.chosen_sdg_targets())

    def add_service_error(self, error: ValidationError) -> None:
        """The service's messages next to the fields they are about. A uniqueness rule over
        several columns (a donor's goal codes) reaches us without a field: it is about the code."""
        unique_messages = {
            str(constraint.violation_error_message): constraint.fields
            for constraint in self.model._meta.constraints
            if isinstance(constraint, UniqueConstraint) and constraint.fields
        }
        for name, found in messages_by_field(error).items():
            for message in found:
                target = name if name in self.fields else None
                if target is None and message in unique_messages:
                    target = next((f for f in unique_messages[message] if f in self.fields), None)
                if target is None and name in ("title", "description"):
                    target = f"{name}_{page_languages()[0]}"
                self.add_error(target, message)


class NationalTargetForm(FrameworkForm):
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=Organisation.objects.none(),
        required=False,
        help_text=_("The part of the ministry that answers for this target."),
    )
    deadline = PageDateField(label=_("Deadline"), required=False)

    model = NationalTarget

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class FunderGoalForm(FrameworkForm):
    parent = forms.TypedChoiceField(
        label=_("Parent goal"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Choose another parent to move the goal, with the goals under it."),
    )

    model = FunderGoal

    def __init__(self, *args, parents: list[tuple["FunderGoal", int]], **kwargs):
        super().__init__(*args, **kwargs)
        # Indented as in the tree; the goal's own descendants stay on the list, and the service
        # says why such a move is refused rather than the choice disappearing without a word.
        self.parents = {goal.pk: goal for goal, _depth in parents}
        self.fields["parent"].choices = [("", gettext("None: a goal at the top of the tree"))] + [
            (goal.pk, "\u00a0\u00a0\u00a0" * depth + f"{goal.code} {goal.title}") for goal, depth in parents
        ]

    def clean_parent(self):
        value = self.cleaned_data.get("parent")
        return None if value is None else self.parents[value]


# Shared helpers -------------------------------------------------------------------------------


def _service_kwargs(form: FrameworkForm, stored=None) -> dict:
    """What the form changes: all of it for a new object; for a stored one only the fields whose
    value differs, so that saving an untouched form writes nothing and records no history."""
    data = dict(form.cleaned_data)
    codes = [code.strip() for code in data.pop("sdg_targets") if code.strip()]
    if stored is None:
        return {**data, "sdg_targets": codes}
    changes = {name: value for name, value in data.items() if not _same(getattr(stored, name), value)}
    if set(codes) != set(stored.sdg_targets or []):
        changes["sdg_targets"] = codes
    return changes


def _records(obj):
    return list(
        obj.history.select_related("history_user")
        .prefetch_related("history_user__memberships__organisation")  # people named with their organisation
        .order_by("history_date", "history_id")
    )


# National targets -----------------------------------------------------------------------------


def _national_target_reader(request):
    """The national plan's pages open to whoever sees the ministry dashboard."""
    access = access_for(request.user)
    if not access.sees_everything:
        raise PermissionDenied
    return access


def _national_target_editor(request):
    access = access_for(request.user)
    if not access.can_edit_national_targets():
        raise PermissionDenied
    return access


def _owners(national_target: NationalTarget | None = None):
    owners = Q(kind=Organisation.Kind.MINISTRY)
    if national_target is not None and national_target.owner_id:
        owners |= Q(pk=national_target.owner_id)
    return Organisation.objects.filter(owners).order_by("name")


@login_required
def national_target_list(request):
    access = _national_target_reader(request)
    national_targets = (
        NationalTarget.objects.select_related("owner").annotate(aligned=Count("alignments")).order_by("code")
    )
    titles = {target.code: target.title(page_languages()[0]) for target in sdg_targets().values()}
    return render(
        request,
        "web/setup/national_target_list.html",
        {
            "national_targets": national_targets,
            "can_edit": access.can_edit_national_targets(),
            "sdg_titles": titles,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def national_target_create(request):
    access = _national_target_editor(request)
    owners = _owners()
    default_owner = owners.filter(pk__in=access.organisation_ids(Organisation.Kind.MINISTRY)).first()
    form = NationalTargetForm(request.POST or None, owners=owners, initial={"owner": default_owner})
    if request.method == "POST" and form.is_valid():
        try:
            target = services.national_target_create(**_service_kwargs(form))
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, gettext("The national target %(code)s was created.") % {"code": target.code})
            return redirect("setup_national_target_list")
    status = 400 if request.method == "POST" else 200
    return render(request, "web/setup/national_target_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def national_target_edit(request, pk: int):
    _national_target_editor(request)
    target = get_object_or_404(NationalTarget.objects.select_related("owner"), pk=pk)
    initial = {name: getattr(target, name) for name in NATIONAL_TARGET_HISTORY_FIELDS}
    form = NationalTargetForm(request.POST or None, owners=_owners(target), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.national_target_update(national_target=target, **_service_kwargs(form, target))
        except ValidationError as error:
            form.add_service_error(error)
            target.refresh_from_db()  # the page names the target as stored
        else:
            messages.success(request, gettext("The national target %(code)s was saved.") % {"code": target.code})
            return redirect("setup_national_target_list")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "web/setup/national_target_form.html", {"form": form, "national_target": target}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def national_target_delete(request, pk: int):
    _national_target_editor(request)
    target = get_object_or_404(NationalTarget, pk=pk)
    refusal = services.national_target_delete_refusal(target)
    if request.method == "POST" and refusal is None:
        try:
            services.national_target_delete(national_target=target)
        except ValidationError as error:
            refusal = error
        else:
            messages.success(request, gettext("The national target %(code)s was deleted.") % {"code": target.code})
            return redirect("setup_national_target_list")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/setup/national_target_delete.html",
        {"national_target": target, "refusal": refusal.messages if refusal is not None else None},
        status=status,
    )


@login_required
def national_target_history(request, pk: int):
    _national_target_reader(request)
    target = get_object_or_404(NationalTarget.objects.select_related("owner"), pk=pk)
    records = _records(target)
    owners = Organisation.objects.filter(pk__in=related_ids(records, "owner"))
    rows = history_rows(
        records,
        field_labels(NationalTarget, NATIONAL_TARGET_HISTORY_FIELDS),
        related_names={"owner": {owner.pk: owner.name for owner in owners}},
    )
    return render(request, "web/setup/national_target_history.html", {"national_target": target, "rows": rows})


# Funder goals ---------------------------------------------------------------------------------


def _visible_donors(access):
    donors = Organisation.objects.filter(kind=Organisation.Kind.DONOR)
    if not access.sees_everything:
        donors = donors.filter(pk__in=access.donor_ids)
    return donors


@dataclass
class GoalNode:
    goal: FunderGoal
    depth: int
    children: list["GoalNode"] = field(default_factory=list)

    @property
    def deletable(self) -> bool:
        return not self.children and not self.goal.aligned


def goal_tree(goals) -> list[GoalNode]:
    """The donor's goals as a tree (ordered by code at each level); a goal whose parent is not
    among them is shown at the top rather than lost."""
    goals = list(goals)
    ids = {goal.pk for goal in goals}
    by_parent: dict[int | None, list[FunderGoal]] = {}
    for goal in goals:
        by_parent.setdefault(goal.parent_id if goal.parent_id in ids else None, []).append(goal)

    def build(parent_id, depth, seen) -> list[GoalNode]:
        nodes = []
        for goal in sorted(by_parent.get(parent_id, []), key=lambda g: g.code):
            if goal.pk in seen:
                continue
            seen.add(goal.pk)
            nodes.append(GoalNode(goal, depth, build(goal.pk, depth + 1, seen)))
        return nodes

    return build(None, 0, set())


def flatten(nodes: list[GoalNode]) -> list[GoalNode]:
    found = []
    for node in nodes:
        found.append(node)
        found.extend(flatten(node.children))
    return found


def _donor_goals(donor):
    return FunderGoal.objects.filter(donor=donor).annotate(aligned=Count("alignments"))


def _parent_choices(donor, goal: FunderGoal | None = None) -> list[tuple[FunderGoal, int]]:
    nodes = flatten(goal_tree(_donor_goals(donor)))
    return [(node.goal, node.depth) for node in nodes if goal is None or node.goal.pk != goal.pk]


def _visible_goal(request, pk: int):
    access = access_for(request.user)
    goal = get_object_or_404(
        FunderGoal.objects.filter(access.funder_goal_filter()).select_related("donor", "parent"), pk=pk
    )
    return access, goal


def _require_goal_editor(access, donor_id: int) -> None:
    if not access.can_edit_funder_goals(donor_id):
        raise PermissionDenied


@login_required
def funder_goal_list(request):
    access = access_for(request.user)
    donors = list(_visible_donors(access).annotate(goals=Count("funder_goals")).order_by("name"))
    if not donors:
        raise PermissionDenied
    for donor in donors:
        donor.editable = access.can_edit_funder_goals(donor.pk)
    return render(request, "web/setup/funder_goal_list.html", {"donors": donors})


@login_required
def funder_goal_tree(request, donor_pk: int):
    access = access_for(request.user)
    donor = get_object_or_404(_visible_donors(access), pk=donor_pk)
    titles = {target.code: target.title(page_languages()[0]) for target in sdg_targets().values()}
    return render(
        request,
        "web/setup/funder_goal_tree.html",
        {
            "donor": donor,
            "nodes": goal_tree(_donor_goals(donor)),
            "can_edit": access.can_edit_funder_goals(donor.pk),
            "sdg_titles": titles,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def funder_goal_create(request, donor_pk: int):
    access = access_for(request.user)
    donor = get_object_or_404(_visible_donors(access), pk=donor_pk)
    _require_goal_editor(access, donor.pk)
    parents = _parent_choices(donor)
    parent_id = request.GET.get("parent")
    initial = {"parent": parent_id if parent_id and parent_id.isdigit() else None}
    form = FunderGoalForm(request.POST or None, parents=parents, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            goal = services.funder_goal_create(donor=donor, **_service_kwargs(form))
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, gettext("The goal %(code)s was added.") % {"code": goal.code})
            return redirect("setup_funder_goal_tree", donor_pk=donor.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/setup/funder_goal_form.html", {"form": form, "donor": donor}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def funder_goal_edit(request, pk: int):
    access, goal = _visible_goal(request, pk)
    _require_goal_editor(access, goal.donor_id)
    initial = {name: getattr(goal, name) for name in FUNDER_GOAL_HISTORY_FIELDS if name != "parent"}
    initial["parent"] = goal.parent_id
    form = FunderGoalForm(request.POST or None, parents=_parent_choices(goal.donor, goal), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.funder_goal_update(funder_goal=goal, **_service_kwargs(form, goal))
        except ValidationError as error:
            form.add_service_error(error)
            goal.refresh_from_db()  # the page names the goal as stored
        else:
            messages.success(request, gettext("The goal %(code)s was saved.") % {"code": goal.code})
            return redirect("setup_funder_goal_tree", donor_pk=goal.donor_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/setup/funder_goal_form.html",
        {"form": form, "donor": goal.donor, "funder_goal": goal},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def funder_goal_delete(request, pk: int):
    access, goal = _visible_goal(request, pk)
    _require_goal_editor(access, goal.donor_id)
    refusal = services.funder_goal_delete_refusal(goal)
    if request.method == "POST" and refusal is None:
        try:
            services.funder_goal_delete(funder_goal=goal)
        except ValidationError as error:
            refusal = error
        else:
            messages.success(request, gettext("The goal %(code)s was deleted.") % {"code": goal.code})
            return redirect("setup_funder_goal_tree", donor_pk=goal.donor_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/setup/funder_goal_delete.html",
        {"funder_goal": goal, "donor": goal.donor, "refusal": refusal.messages if refusal is not None else None},
        status=status,
    )


@login_required
def funder_goal_history(request, pk: int):
    _access, goal = _visible_goal(request, pk)
    records = _records(goal)
    parents = FunderGoal.objects.filter(pk__in=related_ids(records, "parent"))
    rows = history_rows(
        records,
        field_labels(FunderGoal, FUNDER_GOAL_HISTORY_FIELDS),
        related_names={"parent": {parent.pk: f"{parent.code} {parent.title}" for parent in parents}},
    )
    return render(
        request, "web/setup/funder_goal_history.html", {"funder_goal": goal, "donor": goal.donor, "rows": rows}
    )


urlpatterns = [
    path("national-targets/", national_target_list, name="setup_national_target_list"),
    path("national-targets/new/", national_target_create, name="setup_national_target_create"),
    path("national-targets/<int:pk>/edit/", national_target_edit, name="setup_national_target_edit"),
    path("national-targets/<int:pk>/delete/", national_target_delete, name="setup_national_target_delete"),
    path("national-targets/<int:pk>/history/", national_target_history, name="setup_national_target_history"),
    path("funder-goals/", funder_goal_list, name="setup_funder_goal_list"),
    path("funder-goals/donors/<int:donor_pk>/", funder_goal_tree, name="setup_funder_goal_tree"),
    path("funder-goals/donors/<int:donor_pk>/new/", funder_goal_create, name="setup_funder_goal_create"),
    path("funder-goals/<int:pk>/edit/", funder_goal_edit, name="setup_funder_goal_edit"),
    path("funder-goals/<int:pk>/delete/", funder_goal_delete, name="setup_funder_goal_delete"),
    path("funder-goals/<int:pk>/history/", funder_goal_history, name="setup_funder_goal_history"),
]
