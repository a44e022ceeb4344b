"""Programme set-up: the programmes a user may set up, creating and editing one (names in both
languages, dates, donors, implementer, reporting deadline…), and its twinnings and workstreams,
all through `projects.services`, so a new team can set a programme up end to end on the pages.

Who: `Access.can_create_programmes` creates; `Access.can_edit_programme_id` edits a programme and
its twinnings and workstreams (403 for others who see it, 404 for those who do not). The list is
open to every signed-in user: those who set nothing up find there the alignment of what they see."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from common.validation import messages_by_field
from indicators.services import MONTH_NAMES
from partners.models import Membership, Organisation
from projects.access import Access, access_for
from projects.models import Programme, Theme, Twinning, Workstream
from projects.services import (
    PROGRAMME_FIELDS,
    programme_create,
    programme_update,
    twinning_create,
    twinning_update,
    workstream_create,
    workstream_update,
)

from ..forms import DatesInOrder, PageDateField, language_text_field, page_languages

# The programme's history shows the fields the service writes, but the organisations (ids in the
# history rows, which would read as numbers).
HISTORY_FIELDS = tuple(name for name in PROGRAMME_FIELDS if name not in ("implementer", "counterpart"))
HISTORY_ROWS = 30
LTR = {"dir": "ltr"}


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def _organisations(kind: str):
    return Organisation.objects.filter(kind=kind).order_by("name")


class BilingualForm(forms.Form):
    """A form whose names (or titles) and descriptions come in English and Arabic: the page's
    language first, and a service message about the name on the field the user fills first."""

    bilingual = ("name",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        languages = page_languages()
        self.first_language = languages[0]
        for base in self.bilingual:
            first = f"{base}_{self.first_language}"
            if base == "name":
                self.fields[first].help_text = _("Give the name in English, in Arabic or in both.")
        order = []
        for name in self.fields:
            base, _sep, language = name.rpartition("_")
            if base in (*self.bilingual, "description") and language in ("en", "ar"):
                pair = [f"{base}_{code}" for code in languages]
                for item in pair:
                    if item not in order:
                        order.append(item)
            else:
                order.append(name)
        self.order_fields(order)

    def add_service_error(self, error: ValidationError) -> None:
        for name, found in messages_by_field(error).items():
            target = name if name in self.fields else None
            if name in (*self.bilingual, "description"):
                target = f"{name}_{self.first_language}"
            for message in found:
                self.add_error(target, message)


class ProgrammeForm(DatesInOrder, BilingualForm):
    code = forms.CharField(label=_label(Programme, "code"), max_length=40, widget=forms.TextInput(attrs=LTR))
    name_en = language_text_field(_("Name (English)"), language="en", max_length=250)
    name_ar = language_text_field(_("Name (Arabic)"), language="ar", max_length=250)
    description_en = language_text_field(_("Description (English)"), language="en", textarea=True)
    description_ar = language_text_field(_("Description (Arabic)"), language="ar", textarea=True)
    implementer = forms.ModelChoiceField(
        label=_label(Programme, "implementer"), queryset=Organisation.objects.none(), required=False
    )
    donors = forms.ModelMultipleChoiceField(
        label=_label(Programme, "donors"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    counterpart = forms.ModelChoiceField(
        label=_label(Programme, "counterpart"), queryset=Organisation.objects.none(), required=False
    )
    start_date = PageDateField(label=_label(Programme, "start_date"))
    end_date = PageDateField(label=_label(Programme, "end_date"))
    budget = forms.DecimalField(
        label=_label(Programme, "budget"), required=False, widget=forms.NumberInput(attrs={**LTR, "step": "any"})
    )
    currency = forms.CharField(
        label=_label(Programme, "currency"),
        max_length=3,
        initial="USD",
        widget=forms.TextInput(attrs={**LTR, "size": 4}),
        help_text=_("Three letters (ISO 4217), for example USD or EUR."),
    )
    status = forms.ChoiceField(label=_label(Programme, "status"), choices=Programme.Status.choices)
    iati_identifier = forms.CharField(
        label=_label(Programme, "iati_identifier"), max_length=150, required=False, widget=forms.TextInput(attrs=LTR)
    )
    fiscal_year_start_month = forms.TypedChoiceField(
        label=_label(Programme, "fiscal_year_start_month"),
        choices=list(MONTH_NAMES.items()),
        coerce=int,
        initial=1,
        help_text=_("October for a US fiscal year."),
    )
    reporting_due_days = forms.IntegerField(
        label=_label(Programme, "reporting_due_days"),
        initial=30,
        widget=forms.NumberInput(attrs=LTR),
        help_text=Programme._meta.get_field("reporting_due_days").help_text,
    )

    def __init__(self, *args, implementers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["implementer"].queryset = implementers
        self.fields["donors"].queryset = _organisations(Organisation.Kind.DONOR)
        self.fields["counterpart"].queryset = _organisations(Organisation.Kind.MINISTRY)

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()


class TwinningForm(BilingualForm):
    name_en = language_text_field(_("Name (English)"), language="en", max_length=250)
    name_ar = language_text_field(_("Name (Arabic)"), language="ar", max_length=250)
    municipalities = forms.ModelMultipleChoiceField(
        label=_label(Twinning, "municipalities"),
        queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("At least two: the Libyan municipality and its partner."),
    )
    signed_on = PageDateField(label=_label(Twinning, "signed_on"), required=False)
    status = forms.ChoiceField(label=_label(Twinning, "status"), choices=Twinning.Status.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipalities"].queryset = _organisations(Organisation.Kind.MUNICIPALITY)


class WorkstreamForm(BilingualForm):
    name_en = language_text_field(_("Name (English)"), language="en", max_length=250)
    name_ar = language_text_field(_("Name (Arabic)"), language="ar", max_length=250)
    description_en = language_text_field(_("Description (English)"), language="en", textarea=True)
    description_ar = language_text_field(_("Description (Arabic)"), language="ar", textarea=True)
    theme = forms.ModelChoiceField(label=_label(Workstream, "theme"), queryset=Theme.objects.none())
    twinning = forms.ModelChoiceField(
        label=_label(Workstream, "twinning"), queryset=Twinning.objects.none(), required=False
    )
    lead = forms.ModelChoiceField(
        label=_label(Workstream, "lead"), queryset=Organisation.objects.none(), required=False
    )
    municipalities = forms.ModelMultipleChoiceField(
        label=_label(Workstream, "municipalities"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = Theme.objects.order_by("name")
        self.fields["twinning"].queryset = programme.twinnings.order_by("name")
        self.fields["lead"].queryset = Organisation.objects.order_by("name")
        self.fields["municipalities"].queryset = _organisations(Organisation.Kind.MUNICIPALITY)


# Who may do what ----------------------------------------------------------------------------


def _implementers(access: Access, *, creating: bool):
    """The implementers a user may name: any for superusers and (when creating) ministry editors,
    as the API allows; otherwise the implementers the user edits for."""
    implementers = _organisations(Organisation.Kind.IMPLEMENTER)
    if access.is_superuser or (creating and access.can_edit_reference_data()):
        return implementers
    return implementers.filter(pk__in=access.organisation_ids(Organisation.Kind.IMPLEMENTER, Membership.Role.EDITOR))


def _editable_programme(access: Access, programme_id: int) -> Programme:
    programme = get_object_or_404(access.programmes(Programme.objects.select_related("implementer")), pk=programme_id)
    if not access.can_edit_programme_id(programme.pk):
        raise PermissionDenied
    return programme


# Pages --------------------------------------------------------------------------------------


def setup_links(programme_id: int) -> dict[str, str]:
    """The programme's other set-up pages. Each belongs to its own module; one not there yet is
    linked by the address it will have."""
    base = reverse("setup_programme_edit", kwargs={"programme_id": programme_id})
    links = {}
    for key, name, tail in (
        ("indicators", "setup_indicator_list", "indicators/"),
        ("targets", "setup_target_grid", "targets/"),
        ("alignment", "setup_alignment", "alignment/"),
    ):
        try:
            links[key] = reverse(name, kwargs={"programme_id": programme_id})
        except NoReverseMatch:
            links[key] = base + tail
    return links


@login_required
def programme_setup_list(request):
    """The programmes one sets up; for someone who sets up none (the set-up home links here for
    everyone), the programmes they see, each with its alignment to read."""
    access = access_for(request.user)
    aligns_all = access.can_edit_national_targets()  # ministry editors align every programme
    sets_up = access.can_create_programmes() or access.edits_some_programme or aligns_all
    programmes = Programme.objects.select_related("implementer").prefetch_related(
        Prefetch("donors", queryset=Organisation.objects.order_by("name"))
    )
    if not sets_up:
        programmes = access.programmes(programmes)
    elif not (access.is_superuser or aligns_all):
        programmes = programmes.filter(pk__in=access.implemented_programme_ids(Membership.Role.EDITOR))
    rows = [
        {
            "programme": programme,
            "editable": access.can_edit_programme_id(programme.pk),
            "links": setup_links(programme.pk),
        }
        for programme in programmes.order_by("code")
    ]
    return render(
        request,
        "web/setup/programme_list.html",
        {"rows": rows, "can_create": access.can_create_programmes(), "sets_up": sets_up},
    )


@login_required
@require_http_methods(["GET", "POST"])
def programme_create_view(request):
    access = access_for(request.user)
    if not access.can_create_programmes():
        raise PermissionDenied
    form = ProgrammeForm(request.POST or None, implementers=_implementers(access, creating=True))
    if request.method == "POST" and form.is_valid():
        try:
            programme = programme_create(**form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, gettext("The programme “%(name)s” was created.") % {"name": programme.name})
            # The access read at the start of the request predates the programme: ask by implementer.
            implements = programme.implementer_id in access.organisation_ids(
                Organisation.Kind.IMPLEMENTER, Membership.Role.EDITOR
            )
            if access.is_superuser or implements:
                return redirect("setup_programme_edit", programme_id=programme.pk)
            return redirect("setup_programme_list")
    return render(request, "web/setup/programme_form.html", {"form": form})


def _history_rows(programme: Programme) -> list[dict]:
    records = list(
        programme.history.select_related("history_user")
        .prefetch_related("history_user__memberships__organisation")
        .order_by("-history_date", "-history_id")[: HISTORY_ROWS + 1]
    )
    labels = {name: _label(Programme, name) for name in HISTORY_FIELDS}
    labels.update(
        {
            "name_en": _("Name (English)"),
            "name_ar": _("Name (Arabic)"),
            "description_en": _("Description (English)"),
            "description_ar": _("Description (Arabic)"),
        }
    )
    rows = []
    for record, older in zip(records, [*records[1:], None], strict=True):
        changes = []
        if older is not None and record.history_type == "~":
            delta = record.diff_against(older, included_fields=list(HISTORY_FIELDS))
            # An empty text stored as NULL by older writers and as "" by this form is no change.
            changes = [(labels[c.field], c.old, c.new) for c in delta.changes if c.old or c.new]
        rows.append({"record": record, "changes": changes})
    return rows[:HISTORY_ROWS]


@login_required
@require_http_methods(["GET", "POST"])
def programme_edit_view(request, programme_id: int):
    access = access_for(request.user)
    programme = _editable_programme(access, programme_id)
    donors = list(programme.donors.all())
    initial = {name: getattr(programme, name) for name in ProgrammeForm.base_fields if name != "donors"}
    initial["donors"] = donors
    form = ProgrammeForm(request.POST or None, implementers=_implementers(access, creating=False), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            programme_update(programme=programme, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
            programme.refresh_from_db()  # the page names the programme as stored
        else:
            messages.success(request, gettext("The programme “%(name)s” was saved.") % {"name": programme.name})
            return redirect("setup_programme_edit", programme_id=programme.pk)
    context = {
        "form": form,
        "programme": programme,
        "twinnings": programme.twinnings.prefetch_related(
            Prefetch("municipalities", queryset=Organisation.objects.order_by("name"))
        ).order_by("name"),
        "workstreams": programme.workstreams.select_related("theme", "twinning", "lead")
        .prefetch_related(Prefetch("municipalities", queryset=Organisation.objects.order_by("name")))
        .order_by("name"),
        "history": _history_rows(programme),
        "links": setup_links(programme.pk),
    }
    return render(request, "web/setup/programme_form.html", context)


def _part_page(request, *, programme, form, obj, kind: str):
    titles = {
        ("twinning", False): _("Add a twinning"),
        ("twinning", True): _("Edit the twinning"),
        ("workstream", False): _("Add a workstream"),
        ("workstream", True): _("Edit the workstream"),
    }
    return render(
        request,
        "web/setup/programme_part_form.html",
        {"programme": programme, "form": form, "obj": obj, "title": titles[(kind, obj is not None)], "kind": kind},
    )


@login_required
@require_http_methods(["GET", "POST"])
def twinning_form_view(request, programme_id: int, twinning_id: int | None = None):
    access = access_for(request.user)
    programme = _editable_programme(access, programme_id)
    twinning = get_object_or_404(programme.twinnings.all(), pk=twinning_id) if twinning_id else None
    initial = {}
    if twinning is not None:
        initial = {name: getattr(twinning, name) for name in ("name_en", "name_ar", "signed_on", "status")}
        initial["municipalities"] = list(twinning.municipalities.all())
    form = TwinningForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if twinning is None:
                twinning = twinning_create(programme=programme, **form.cleaned_data)
            else:
                twinning_update(twinning=twinning, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
            if twinning is not None and twinning.pk:
                twinning.refresh_from_db()
        else:
            messages.success(request, gettext("The twinning “%(name)s” was saved.") % {"name": twinning.name})
            return redirect("setup_programme_edit", programme_id=programme.pk)
    return _part_page(request, programme=programme, form=form, obj=twinning, kind="twinning")


@login_required
@require_http_methods(["GET", "POST"])
def workstream_form_view(request, programme_id: int, workstream_id: int | None = None):
    access = access_for(request.user)
    programme = _editable_programme(access, programme_id)
    workstream = get_object_or_404(programme.workstreams.all(), pk=workstream_id) if workstream_id else None
    initial = {}
    if workstream is not None:
        fields = ("name_en", "name_ar", "description_en", "description_ar", "theme", "twinning", "lead")
        initial = {name: getattr(workstream, name) for name in fields}
        initial["municipalities"] = list(workstream.municipalities.all())
    form = WorkstreamForm(request.POST or None, programme=programme, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if workstream is None:
                workstream = workstream_create(programme=programme, **form.cleaned_data)
            else:
                workstream_update(workstream=workstream, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
            if workstream is not None and workstream.pk:
                workstream.refresh_from_db()
        else:
            messages.success(request, gettext("The workstream “%(name)s” was saved.") % {"name": workstream.name})
            return redirect("setup_programme_edit", programme_id=programme.pk)
    return _part_page(request, programme=programme, form=form, obj=workstream, kind="workstream")


urlpatterns = [
    path("programmes/", programme_setup_list, name="setup_programme_list"),
    path("programmes/new/", programme_create_view, name="setup_programme_create"),
    path("programmes/<int:programme_id>/", programme_edit_view, name="setup_programme_edit"),
    path("programmes/<int:programme_id>/twinnings/new/", twinning_form_view, name="setup_twinning_create"),
    path("programmes/<int:programme_id>/twinnings/<int:twinning_id>/", twinning_form_view, name="setup_twinning_edit"),
    path("programmes/<int:programme_id>/workstreams/new/", workstream_form_view, name="setup_workstream_create"),
    path(
        "programmes/<int:programme_id>/workstreams/<int:workstream_id>/",
        workstream_form_view,
        name="setup_workstream_edit",
    ),
]
