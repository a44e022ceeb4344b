"""The registry's pages (docs/registry.md): the interventions, an intervention, IATI imports,
the review queue of duplicate candidates, unmatched locations, the sector–theme mapping and the
3W page with its map. Reads go through `registry.selectors`, writes through `registry.services`;
ministry editors import and review, donors see the pairs that involve them."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from partners.models import Organisation
from projects.access import access_for
from projects.models import Theme
from registry import selectors, services
from registry.geography import MapPlane
from registry.iati import dac_name
from registry.models import IatiImport, Intervention, InterventionLocation, OverlapCandidate, SectorTheme

IATI_UPLOAD_LIMIT = services.IMPORT_MAX_BYTES
TITLES_PER_CELL = 5
REASON_LABELS = {
    "same_municipality": _("Same municipality"),
    "same_theme": _("Same theme"),
    "same_sector": _("Same DAC sector"),
    "dates_overlap": _("Dates overlap"),
    "similar_title": _("Similar title"),
    "shared_implementer": _("Shared implementer"),
    "same_identifier": _("Same IATI identifier"),
    "related_activity": _("Linked as related activity"),
    "same_donor": _("Same donor"),
}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _require_editor(access) -> None:
    if not access.can_edit_registry():
        raise PermissionDenied


def _libyan_municipalities():
    return Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY, country="LY").order_by("name")


# Forms ----------------------------------------------------------------------------------------


class IatiUploadForm(forms.Form):
    file = forms.FileField(
        label=_("IATI activity file (.xml)"),
        help_text=_("IATI 2.01 to 2.03, at most 20 MB. Larger files: manage.py import_iati FILE."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IATI_UPLOAD_LIMIT:
            raise ValidationError(_("The file is larger than 20 MB; import it with `manage.py import_iati FILE`."))
        return upload


class ReviewForm(forms.Form):
    status = forms.ChoiceField(label=_("Decision"), choices=OverlapCandidate.Status.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class AliasForm(forms.Form):
    municipality = forms.ModelChoiceField(label=_("Municipality"), queryset=Organisation.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = _libyan_municipalities()


class SectorThemeForm(forms.Form):
    dac_code = forms.CharField(label=_("DAC sector code"), max_length=5)
    theme = forms.ModelChoiceField(label=_("Theme"), queryset=Theme.objects.order_by("name"))


def _service_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, found in error.message_dict.items():
            for message in found:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


# Interventions --------------------------------------------------------------------------------


@login_required
def registry_home(request):
    access = access_for(request.user)
    municipality_id, theme_id, donor_id = (_int(request.GET.get(k)) for k in ("municipality", "theme", "donor"))
    source = request.GET.get("source", "")
    interventions = selectors.filter_interventions(
        selectors.visible_interventions(access), municipality=municipality_id, theme=theme_id, donor=donor_id
    )
    if source in Intervention.Source.values:
        interventions = interventions.filter(source=source)
    interventions = (
        interventions.select_related("reporting_org")
        .prefetch_related("donors", "municipalities", "themes")
        .order_by("-start_date", "id")
    )
    page = Paginator(interventions, 50).get_page(request.GET.get("page"))
    candidates = selectors.visible_candidates(access)
    context = {
        "page": page,
        "query": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
        "municipalities": _libyan_municipalities(),
        "themes": Theme.objects.order_by("name"),
        "donors": Organisation.objects.filter(kind=Organisation.Kind.DONOR).order_by("name"),
        "sources": Intervention.Source.choices,
        "filters": {"municipality": municipality_id, "theme": theme_id, "donor": donor_id, "source": source},
        "open_candidates": candidates.filter(status=OverlapCandidate.Status.OPEN).count(),
        "can_edit": access.can_edit_registry(),
        "unmatched": selectors.unmatched_locations().count() if access.can_edit_registry() else 0,
    }
    return render(request, "web/registry_home.html", context)


@login_required
def registry_intervention(request, pk: int):
    access = access_for(request.user)
    intervention = get_object_or_404(
        selectors.visible_interventions(access)
        .select_related("reporting_org", "programme")
        .prefetch_related("donors", "implementers", "municipalities", "themes"),
        pk=pk,
    )
    candidates = list(
        selectors.visible_candidates(access)
        .filter(Q(intervention_a=intervention) | Q(intervention_b=intervention))
        .select_related("intervention_a", "intervention_b", "reviewed_by")
    )
    for candidate in candidates:
        candidate.other = (
            candidate.intervention_b if candidate.intervention_a_id == intervention.pk else candidate.intervention_a
        )
        candidate.reason_labels = [REASON_LABELS.get(r, r) for r in candidate.reasons]
    return render(
        request,
        "web/registry_intervention.html",
        {
            "intervention": intervention,
            "sectors": [(code, dac_name(code)) for code in intervention.sectors + intervention.sector_categories],
            "locations": list(intervention.locations.select_related("municipality")),
            "budgets": list(intervention.budgets.all()),
            "transactions": list(intervention.transactions.all()),
            "candidates": candidates,
        },
    )


# Imports --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def registry_imports(request):
    access = access_for(request.user)
    _require_editor(access)
    form = IatiUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = services.iati_import_create(source=upload, file_name=upload.name, user=request.user)
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(
                request,
                gettext(
                    "%(created)s activities created, %(updated)s updated, %(unchanged)s unchanged, "
                    "%(skipped)s skipped (not in Libya)."
                )
                % {
                    "created": record.activities_created,
                    "updated": record.activities_updated,
                    "unchanged": record.activities_unchanged,
                    "skipped": record.activities_skipped,
                },
            )
            return redirect("registry_import", pk=record.pk)
    imports = IatiImport.objects.select_related("imported_by")[:50]
    status = 400 if request.method == "POST" else 200
    return render(request, "web/registry_imports.html", {"form": form, "imports": imports}, status=status)


@login_required
def registry_import(request, pk: int):
    _require_editor(access_for(request.user))
    record = get_object_or_404(IatiImport.objects.select_related("imported_by"), pk=pk)
    return render(request, "web/registry_import.html", {"record": record})


# Duplicate candidates -------------------------------------------------------------------------


@login_required
def registry_candidates(request):
    access = access_for(request.user)
    status = request.GET.get("status", OverlapCandidate.Status.OPEN)
    candidates = selectors.visible_candidates(access)
    if status in OverlapCandidate.Status.values:
        candidates = candidates.filter(status=status)
    else:
        status = ""
    candidates = candidates.select_related("intervention_a", "intervention_b", "reviewed_by").order_by("-score", "id")
    page = Paginator(candidates, 25).get_page(request.GET.get("page"))
    ids = {i for c in page.object_list for i in c.intervention_ids}
    details = {
        i.pk: i
        for i in Intervention.objects.filter(pk__in=ids).prefetch_related(
            "donors", "implementers", "municipalities", "themes"
        )
    }
    rows = []
    for candidate in page.object_list:
        rows.append(
            {
                "candidate": candidate,
                "a": details[candidate.intervention_a_id],
                "b": details[candidate.intervention_b_id],
                "reasons": [REASON_LABELS.get(r, r) for r in candidate.reasons],
                "form": ReviewForm(
                    initial={"status": candidate.status, "note": candidate.note}, prefix=str(candidate.pk)
                ),
            }
        )
    return render(
        request,
        "web/registry_candidates.html",
        {
            "rows": rows,
            "page": page,
            "status": status,
            "statuses": OverlapCandidate.Status.choices,
            "can_review": access.can_edit_registry(),
            "query": urlencode({"status": status}),
        },
    )


@login_required
@require_POST
def registry_candidate_review(request, pk: int):
    access = access_for(request.user)
    candidate = get_object_or_404(selectors.visible_candidates(access), pk=pk)
    _require_editor(access)
    form = ReviewForm(request.POST, prefix=str(candidate.pk))
    if not form.is_valid():
        messages.error(request, " ".join(m for found in form.errors.values() for m in found))
    else:
        try:
            services.overlap_candidate_review(
                candidate=candidate,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                gettext("The pair was marked “%(status)s”.")
                % {"status": OverlapCandidate.Status(form.cleaned_data["status"]).label},
            )
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("registry_candidates"))


# Locations ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def registry_locations(request):
    access = access_for(request.user)
    _require_editor(access)
    failed = None
    if request.method == "POST":
        location = get_object_or_404(InterventionLocation, pk=_int(request.POST.get("location")))
        form = AliasForm(request.POST, prefix=f"l{location.pk}")
        if form.is_valid():
            try:
                services.location_alias_create(
                    location=location, municipality=form.cleaned_data["municipality"], user=request.user
                )
            except ValidationError as error:
                _service_errors(form, error)
            else:
                messages.success(
                    request,
                    gettext("“%(place)s” is now mapped to %(municipality)s, in this and later imports.")
                    % {"place": location.name or location.code, "municipality": form.cleaned_data["municipality"].name},
                )
                return redirect("registry_locations")
        failed = (location.pk, form)
    locations = list(selectors.unmatched_locations()[:200])
    for location in locations:
        if failed and failed[0] == location.pk:
            location.form = failed[1]
        else:
            location.form = AliasForm(prefix=f"l{location.pk}")
    return render(request, "web/registry_locations.html", {"locations": locations}, status=400 if failed else 200)


# Sector–theme mapping -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def registry_sector_themes(request):
    access = access_for(request.user)
    _require_editor(access)
    form = SectorThemeForm(request.POST or None)
    if request.method == "POST":
        delete_id = _int(request.POST.get("delete"))
        if delete_id is not None:
            mapping = get_object_or_404(SectorTheme, pk=delete_id)
            services.sector_theme_delete(mapping=mapping)
            messages.success(request, gettext("The mapping was removed."))
            return redirect("registry_sector_themes")
        if form.is_valid():
            try:
                services.sector_theme_create(**form.cleaned_data)
            except ValidationError as error:
                _service_errors(form, error)
            else:
                messages.success(request, gettext("The mapping was added."))
                return redirect("registry_sector_themes")
    mappings = [
        {"mapping": m, "name": dac_name(m.dac_code)}
        for m in SectorTheme.objects.select_related("theme").order_by("theme__name", "dac_code")
    ]
    status = 400 if request.method == "POST" else 200
    return render(request, "web/registry_sector_themes.html", {"form": form, "mappings": mappings}, status=status)


# Who does what where --------------------------------------------------------------------------


@login_required
def registry_3w(request):
    access = access_for(request.user)
    rows = selectors.three_w_rows(access)
    plane = MapPlane()
    points = []
    for point in selectors.map_points(access):
        municipality = point["municipality"]
        x, y = plane.project(float(municipality.latitude), float(municipality.longitude))
        radius = 5 + 3 * min(point["donors"], 8)
        points.append(
            {
                **point,
                "x": x,
                "y": y,
                "r": radius,
                "label_y": round(y - radius - 4, 1),
                "fill": "#b3261e" if point["duplicates"] else ("#1f6f8b" if point["interventions"] else "#9aa5ad"),
            }
        )
    grid = selectors.three_w_grid(rows)
    for cell in grid:
        # A cell names its first interventions and links the rest as the registry's list of that
        # municipality and theme: at national scale a cell holds dozens (the page stays readable
        # and light; the CSV and JSON downloads carry every row).
        cut = len(cell["interventions"]) if cell["municipality_id"] is None else TITLES_PER_CELL
        cell["shown"], cell["more"] = cell["interventions"][:cut], len(cell["interventions"][cut:])
        if cell["more"]:
            query = {"municipality": cell["municipality_id"], "theme": cell["theme_id"] or ""}
            cell["more_url"] = reverse("registry_home") + "?" + urlencode(query)
    return render(
        request,
        "web/registry_3w.html",
        {
            "grid": grid,
            "plane": plane,
            "outline": plane.outline_path(),
            "points": points,
            "csv_url": reverse("report-3w") + "?format=csv",
            "json_url": reverse("report-3w") + "?format=json",
            "total": sum((r["budget"] or Decimal(0) for r in rows), Decimal(0)),
        },
    )
