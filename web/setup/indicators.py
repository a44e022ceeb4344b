"""Set-up of indicators (docs/pages.md, "Indicator set-up"): a programme's editors define its
indicators, every field of docs/design.md §3 including the reference sheet (PIRS), or copy them
from another programme or from the ministry's standard list; ministry editors keep that list.

Every write goes through `indicators.services`, so the rules (one code per programme, bounds in
order, a workstream of the same programme, no frequency change under targets or results) and the
recomputes stay in one place; the forms here only check the shape of the input.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.formats import date_format
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from common.validation import messages_by_field
from indicators import services
from indicators.models import DisaggregationCategory, Indicator, StandardIndicator
from partners.models import Membership
from projects.access import Access, access_for
from projects.models import Programme, Workstream

from ..forms import PageDateField, language_text_field, page_languages
from ..templatetags.twinning_web import num

# Translated fields: each is two inputs, English and Arabic; one language is enough.
TRANSLATED = ("name", "definition", "unit", "data_source", "collection_method", "responsible", "known_limitations")
LANGUAGE_NOTES = {"en": _("(in English)"), "ar": _("(in Arabic)")}

# The form's fieldsets, by base field name. A standard indicator has no programme, so none of the
# programme's own fields (workstream, baseline, LoP target).
FIELDSETS = (
    (_("Definition"), ("code", "workstream", "name", "definition", "level", "unit")),
    (
        _("How it is measured"),
        (
            "measure",
            "time_aggregation",
            "direction",
            "frequency",
            "disaggregations",
            "baseline_value",
            "baseline_date",
            "lop_target",
        ),
    ),
    (_("Reference sheet (PIRS)"), ("data_source", "collection_method", "responsible", "known_limitations")),
    (_("Bounds"), ("value_min", "value_max", "whole_numbers")),
)
PROGRAMME_OWN = services.PROGRAMME_OWN_FIELDS
# How a copy counts: if any differs from its standard, the page says so.
COUNTED_THE_SAME_WAY = (
    "measure",
    "time_aggregation",
    "direction",
    "frequency",
    "value_min",
    "value_max",
    "whole_numbers",
)
HISTORY_LIMIT = 100
HISTORY_WHAT = {
    "+": pgettext_lazy("an indicator's history", "Created"),
    "~": pgettext_lazy("an indicator's history", "Changed"),
    "-": pgettext_lazy("an indicator's history", "Deleted"),
}


def _form_field(model, name: str, language: str | None = None) -> forms.Field:
    """The model's own form field (label, length, choices, digits), with the widget the pages use;
    a translated field's column in one language is an optional text input marked with it."""
    if language:
        base = model._meta.get_field(name)
        return language_text_field(
            format_lazy("{} {}", capfirst(base.verbose_name), LANGUAGE_NOTES[language]),
            language=language,
            textarea=isinstance(base, models.TextField),
            max_length=base.max_length,
        )
    model_field = model._meta.get_field(name)
    field = model_field.formfield()
    field.label = capfirst(model_field.verbose_name)
    if isinstance(field, forms.DecimalField):
        field.widget.attrs.update({"dir": "ltr", "inputmode": "decimal"})
    if isinstance(field, forms.DateField):  # typed as on every page, hinted in the page's language
        field = PageDateField(label=field.label, required=field.required, help_text=field.help_text)
    if name == "code":
        field.widget.attrs.update({"dir": "ltr", "autocomplete": "off"})
    return field


class DefinitionForm(forms.Form):
    """Every field of an indicator's definition, built from the model so each is declared once.
    `model` is Indicator or StandardIndicator; with `programme`, the programme's own fields too."""

    def __init__(self, *args, model, programme: Programme | None = None, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        languages = page_languages()
        self.fieldsets = []
        for legend, names in FIELDSETS:
            members = []
            for name in names:
                if name in PROGRAMME_OWN and programme is None:
                    continue
                if name in TRANSLATED:
                    pair = []
                    for language in languages:
                        self.fields[f"{name}_{language}"] = _form_field(model, name, language)
                        pair.append(f"{name}_{language}")
                    members.append(pair)
                    continue
                if name == "workstream":
                    field = forms.ModelChoiceField(
                        label=capfirst(Indicator._meta.get_field("workstream").verbose_name),
                        queryset=Workstream.objects.filter(programme=programme).order_by("name_en", "name_ar"),
                        required=False,
                        error_messages={"invalid_choice": _("Choose a workstream of this programme.")},
                    )
                    field.label_from_instance = lambda workstream: workstream.name
                elif name == "disaggregations":
                    field = forms.ModelMultipleChoiceField(
                        label=capfirst(Indicator._meta.get_field("disaggregations").verbose_name),
                        queryset=DisaggregationCategory.objects.order_by("code"),
                        required=False,
                        widget=forms.CheckboxSelectMultiple,
                        help_text=_("Results are entered for the total and for each option of these categories."),
                    )
                    field.label_from_instance = lambda category: category.name
                else:
                    field = _form_field(model, name)
                self.fields[name] = field
                members.append([name])
            self.fieldsets.append((legend, [[self[name] for name in group] for group in members]))
        self.fields[f"name_{languages[0]}"].help_text = _("Give the name in English, in Arabic or in both.")
        self.read_only = read_only
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    def add_service_error(self, error: ValidationError, *, code_messages: set[str] = frozenset()) -> None:
        """A service's messages next to the fields they name; a message about the code that the
        database constraint reports for the whole object goes next to the code all the same."""
        for name, found in messages_by_field(error).items():
            for message in found:
                target = name if name in self.fields else None
                if name == NON_FIELD_ERRORS and message in code_messages:
                    target = "code"
                self.add_error(target, message)


def _initial(obj) -> dict:
    initial = {name: getattr(obj, name) for name in services.INDICATOR_FIELDS if hasattr(obj, name)}
    for name, value in initial.items():
        if isinstance(value, Decimal):
            # As typed ("12"), not as stored ("12.000000"); never in exponent form ("1E+2").
            initial[name] = format(value.normalize(), "f")
    initial["disaggregations"] = list(obj.disaggregations.all())
    return initial


# Access ---------------------------------------------------------------------------------------


def _visible_programme(access: Access, programme_id: int) -> Programme:
    return get_object_or_404(access.programmes(), pk=programme_id)


def _visible_indicator(access: Access, pk: int) -> Indicator:
    return get_object_or_404(
        access.scoped(Indicator.objects.select_related("programme", "workstream", "standard"), "programme"), pk=pk
    )


# History --------------------------------------------------------------------------------------


def history_rows(obj, field_names) -> list[dict]:
    """Who changed what, when (django-simple-history), newest first: for each record its changes
    as (label, old, new) in words. A fixed number of queries for any number of records."""
    records = list(
        obj.history.select_related("history_user")
        .prefetch_related("history_user__memberships__organisation")  # people named by organisation
        .order_by("-history_date", "-history_id")[:HISTORY_LIMIT]
    )
    records.reverse()
    model = obj._meta.model
    fields = {name: model._meta.get_field(name) for name in field_names}
    related_ids: dict[str, set] = {}
    rows, previous = [], None
    for record in records:
        changes = []
        if previous is not None:
            changes = record.diff_against(previous, included_fields=list(fields)).changes
            for change in changes:
                if fields[change.field].is_relation:
                    related_ids.setdefault(change.field, set()).update({change.old, change.new} - {None})
        rows.append({"record": record, "what": HISTORY_WHAT[record.history_type], "changes": changes})
        previous = record
    related = {
        name: fields[name].related_model.objects.in_bulk(ids) for name, ids in related_ids.items()
    }  # at most one query per related field (workstream, standard)

    def shown(name, value):
        field = fields[name]
        if value is None or value == "":
            return "—"
        if field.is_relation:
            found = related[name].get(value)
            return str(found) if found is not None else "—"
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        if isinstance(field, models.DecimalField):
            return num(value)
        if isinstance(field, models.DateField):
            return date_format(value, "SHORT_DATE_FORMAT")
        return value

    for row in rows:
        row["changes"] = [
            (
                capfirst(_column_label(model, change.field)),
                shown(change.field, change.old),
                shown(change.field, change.new),
            )
            for change in row["changes"]
        ]
    rows.reverse()
    return rows


def _column_label(model, column: str):
    for language, note in LANGUAGE_NOTES.items():
        if column.endswith(f"_{language}") and column[: -len(language) - 1] in TRANSLATED:
            base = model._meta.get_field(column[: -len(language) - 1])
            return format_lazy("{} {}", base.verbose_name, note)
    return model._meta.get_field(column).verbose_name


def _tracked(field_names) -> list[str]:
    return [name for name in field_names if name != "disaggregations"]


def _differences_from_standard(indicator: Indicator) -> list:
    """The ways this copy no longer counts as its standard does (labels), or []."""
    standard = indicator.standard
    if standard is None:
        return []
    labels = [
        capfirst(Indicator._meta.get_field(name).verbose_name)
        for name in COUNTED_THE_SAME_WAY
        if getattr(indicator, name) != getattr(standard, name)
    ]
    own = {c.code for c in indicator.disaggregations.all()}
    if own != {c.code for c in standard.disaggregations.all()}:
        labels.append(capfirst(Indicator._meta.get_field("disaggregations").verbose_name))
    return labels


# Indicators of a programme --------------------------------------------------------------------


@login_required
def indicator_list(request, programme_id: int):
    access = access_for(request.user)
    programme = _visible_programme(access, programme_id)
    indicators = Indicator.objects.filter(programme=programme).select_related("workstream", "standard").order_by("code")
    return render(
        request,
        "web/setup/indicator_list.html",
        {"programme": programme, "indicators": indicators, "can_edit": access.can_edit_programme_id(programme.pk)},
    )


def _duplicate_code_messages() -> set[str]:
    constraint = next(c for c in Indicator._meta.constraints if c.name == "indicator_unique_code_per_programme")
    return {str(constraint.violation_error_message)}


@login_required
@require_http_methods(["GET", "POST"])
def indicator_create(request, programme_id: int):
    access = access_for(request.user)
    programme = _visible_programme(access, programme_id)
    if not access.can_edit_programme_id(programme.pk):
        raise PermissionDenied
    form = DefinitionForm(request.POST or None, model=Indicator, programme=programme)
    if request.method == "POST" and form.is_valid():
        try:
            indicator = services.indicator_create(programme=programme, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error, code_messages=_duplicate_code_messages())
        else:
            messages.success(request, gettext("The indicator %(code)s was created.") % {"code": indicator.code})
            return redirect("setup_indicator_list", programme_id=programme.pk)
    return render(
        request, "web/setup/indicator_form.html", {"form": form, "programme": programme}, status=_status(form)
    )


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@login_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request, pk: int):
    access = access_for(request.user)
    indicator = _visible_indicator(access, pk)
    can_edit = access.can_edit_programme_id(indicator.programme_id)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    form = DefinitionForm(
        request.POST or None,
        model=Indicator,
        programme=indicator.programme,
        read_only=not can_edit,
        initial=_initial(indicator),
    )
    if request.method == "POST" and form.is_valid():
        try:
            indicator = services.indicator_update(indicator=indicator, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error, code_messages=_duplicate_code_messages())
            indicator.refresh_from_db()  # the page names the indicator as stored
        else:
            messages.success(request, gettext("The indicator %(code)s was saved.") % {"code": indicator.code})
            return redirect("setup_indicator_edit", pk=indicator.pk)
    return render(
        request,
        "web/setup/indicator_form.html",
        {
            "form": form,
            "programme": indicator.programme,
            "indicator": indicator,
            "can_edit": can_edit,
            "differences": _differences_from_standard(indicator),
            "history": history_rows(indicator, _tracked([*services.INDICATOR_FIELDS, "standard"])),
            "delete_refusal": services.indicator_delete_refusal(indicator) if can_edit else None,
        },
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def indicator_delete(request, pk: int):
    access = access_for(request.user)
    indicator = _visible_indicator(access, pk)
    if not access.can_edit_programme_id(indicator.programme_id):
        raise PermissionDenied
    refusal = services.indicator_delete_refusal(indicator)
    if request.method == "POST" and refusal is None:
        try:
            services.indicator_delete(indicator=indicator)
        except ValidationError as error:
            refusal = error  # results arrived meanwhile
        else:
            messages.success(request, gettext("The indicator %(code)s was deleted.") % {"code": indicator.code})
            return redirect("setup_indicator_list", programme_id=indicator.programme_id)
    return render(
        request,
        "web/setup/indicator_delete.html",
        {"indicator": indicator, "programme": indicator.programme, "refusal": refusal},
        status=409 if request.method == "POST" else 200,
    )


# Copies ----------------------------------------------------------------------------------------


class CopyForm(forms.Form):
    source = forms.ModelChoiceField(label=_("Indicator to copy"), queryset=Indicator.objects.none())
    code = forms.CharField(
        label=_("Code of the copy"),
        max_length=Indicator._meta.get_field("code").max_length,
        help_text=_("Unique within this programme."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources
        self.fields["source"].label_from_instance = _source_label

    def add_service_error(self, error: ValidationError) -> None:
        for name, found in messages_by_field(error).items():
            for message in found:
                self.add_error(name if name in self.fields else None, message)


def _source_label(source) -> str:
    name = source.name or ""
    if isinstance(source, Indicator):
        return f"{source.programme.code} · {source.code} {name}"
    return f"{source.code} {name}"


COPY_KINDS = {
    "programme": (_("Copy an indicator from another programme"), _("Indicator to copy")),
    "standard": (_("Copy an indicator from the standard list"), _("Standard indicator to copy")),
}


def _copy_sources(access: Access, programme: Programme, kind: str):
    if kind == "standard":
        return StandardIndicator.objects.order_by("code")
    return (
        access.scoped(Indicator.objects.exclude(programme=programme), "programme")
        .select_related("programme")
        .order_by("programme__code", "code")
    )


@login_required
@require_http_methods(["GET", "POST"])
def indicator_copy(request, programme_id: int, kind: str):
    access = access_for(request.user)
    programme = _visible_programme(access, programme_id)
    if not access.can_edit_programme_id(programme.pk):
        raise PermissionDenied
    sources = _copy_sources(access, programme, kind)
    initial = {}
    chosen = request.GET.get("source")
    if chosen and chosen.isdigit():
        source = sources.filter(pk=int(chosen)).first()
        if source is not None:
            initial = {"source": source.pk, "code": source.code}
    form = CopyForm(request.POST or None, sources=sources, initial=initial)
    title, source_label = COPY_KINDS[kind]
    form.fields["source"].label = source_label
    if request.method == "POST" and form.is_valid():
        try:
            indicator = services.indicator_copy(
                source=form.cleaned_data["source"],
                programme=programme,
                code=form.cleaned_data["code"],
                user=request.user,
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                gettext(
                    "The indicator %(code)s was copied. Give it this programme's workstream, baseline and "
                    "life-of-programme target here."
                )
                % {"code": indicator.code},
            )
            return redirect("setup_indicator_edit", pk=indicator.pk)
    return render(
        request,
        "web/setup/indicator_copy.html",
        {"form": form, "programme": programme, "title": title, "kind": kind},
        status=_status(form),
    )


# The ministry's standard indicators -------------------------------------------------------------


@login_required
def standard_indicator_list(request):
    access = access_for(request.user)
    standards = StandardIndicator.objects.prefetch_related(
        Prefetch("disaggregations", queryset=DisaggregationCategory.objects.order_by("code"))
    ).order_by("code")
    return render(
        request,
        "web/setup/standard_indicator_list.html",
        {
            "standards": standards,
            "can_edit": access.can_edit_reference_data(),
        },
    )


def _programmes_to_copy_to(access: Access):
    """Programmes the user may copy a standard indicator into."""
    if access.is_superuser:
        return Programme.objects.order_by("code")
    return Programme.objects.filter(pk__in=access.implemented_programme_ids(Membership.Role.EDITOR)).order_by("code")


@login_required
@require_http_methods(["GET", "POST"])
def standard_indicator_create(request):
    access = access_for(request.user)
    if not access.can_edit_reference_data():
        raise PermissionDenied
    form = DefinitionForm(request.POST or None, model=StandardIndicator)
    if request.method == "POST" and form.is_valid():
        try:
            standard = services.standard_indicator_create(**form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, gettext("The standard indicator %(code)s was created.") % {"code": standard.code})
            return redirect("setup_standard_indicator_list")
    return render(request, "web/setup/standard_indicator_form.html", {"form": form}, status=_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def standard_indicator_edit(request, pk: int):
    access = access_for(request.user)
    standard = get_object_or_404(StandardIndicator, pk=pk)
    can_edit = access.can_edit_reference_data()
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    form = DefinitionForm(
        request.POST or None, model=StandardIndicator, read_only=not can_edit, initial=_initial(standard)
    )
    if request.method == "POST" and form.is_valid():
        try:
            standard = services.standard_indicator_update(standard_indicator=standard, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
            standard.refresh_from_db()
        else:
            messages.success(request, gettext("The standard indicator %(code)s was saved.") % {"code": standard.code})
            return redirect("setup_standard_indicator_edit", pk=standard.pk)
    copies = list(
        standard.indicators.filter(access.programme_filter("programme"))
        .select_related("programme")
        .order_by("programme__code", "code")
    )
    return render(
        request,
        "web/setup/standard_indicator_form.html",
        {
            "form": form,
            "standard": standard,
            "can_edit": can_edit,
            "copies": copies,
            "copy_to": _programmes_to_copy_to(access),
            "history": history_rows(standard, _tracked(services.STANDARD_INDICATOR_FIELDS)),
            "delete_refusal": services.standard_indicator_delete_refusal(standard) if can_edit else None,
        },
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def standard_indicator_delete(request, pk: int):
    access = access_for(request.user)
    standard = get_object_or_404(StandardIndicator, pk=pk)
    if not access.can_edit_reference_data():
        raise PermissionDenied
    refusal = services.standard_indicator_delete_refusal(standard)
    if request.method == "POST" and refusal is None:
        try:
            services.standard_indicator_delete(standard_indicator=standard)
        except ValidationError as error:
            refusal = error
        else:
            messages.success(request, gettext("The standard indicator %(code)s was deleted.") % {"code": standard.code})
            return redirect("setup_standard_indicator_list")
    return render(
        request,
        "web/setup/standard_indicator_delete.html",
        {"standard": standard, "refusal": refusal},
        status=409 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("programmes/<int:programme_id>/indicators/", indicator_list, name="setup_indicator_list"),
    path("programmes/<int:programme_id>/indicators/new/", indicator_create, name="setup_indicator_create"),
    path(
        "programmes/<int:programme_id>/indicators/copy/programme/",
        indicator_copy,
        {"kind": "programme"},
        name="setup_indicator_copy_programme",
    ),
    path(
        "programmes/<int:programme_id>/indicators/copy/standard/",
        indicator_copy,
        {"kind": "standard"},
        name="setup_indicator_copy_standard",
    ),
    path("indicators/<int:pk>/", indicator_edit, name="setup_indicator_edit"),
    path("indicators/<int:pk>/delete/", indicator_delete, name="setup_indicator_delete"),
    path("standard-indicators/", standard_indicator_list, name="setup_standard_indicator_list"),
    path("standard-indicators/new/", standard_indicator_create, name="setup_standard_indicator_create"),
    path("standard-indicators/<int:pk>/", standard_indicator_edit, name="setup_standard_indicator_edit"),
    path("standard-indicators/<int:pk>/delete/", standard_indicator_delete, name="setup_standard_indicator_delete"),
]
