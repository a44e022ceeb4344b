"""The pages. Each view reads through `web.selectors` (scoped by `projects.access`) and writes
through the services, so the pages follow the same rules as the API."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms.models import model_to_dict
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext, ngettext, pgettext
from django.views.decorators.http import require_http_methods

from common.validation import messages_by_field
from indicators import periods
from indicators.models import Result
from indicators.services import StaleVersion, result_reopen, result_review_refusal
from partners.models import Membership, Organisation
from projects.access import access_for
from projects.models import Activity, Twinning, Workstream
from projects.selectors import programme_municipality_ids
from projects.services import activity_create, activity_update

from . import approvals, dashboards, downloads, drilldown, selectors, spreadsheets
from .forms import ActivityForm, UploadForm, page_date
from .results import Grid, grid_withdraw


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


# Home: each role lands on its own page ------------------------------------------------------


@login_required
def home(request):
    access = access_for(request.user)
    if access.sees_everything:
        return redirect("ministry_dashboard")
    if access.donor_ids:
        return redirect("donor_dashboard")
    municipalities = access.municipality_ids
    if municipalities and not access.organisation_ids(Organisation.Kind.IMPLEMENTER):
        return redirect("municipality_detail", pk=min(municipalities))
    return redirect("programme_list")


# Dashboards ---------------------------------------------------------------------------------


@login_required
def ministry_dashboard(request):
    access = access_for(request.user)
    if not access.sees_everything:
        raise PermissionDenied
    context = dashboards.ministry_context(access)
    if (download := downloads.answer(request, context, downloads.MINISTRY, stem="ministry")) is not None:
        return download
    context["national_trends"] = drilldown.national_target_sparklines(access)
    return render(request, "web/ministry_dashboard.html", context)


@login_required
def donor_dashboard(request):
    access = access_for(request.user)
    donors = Organisation.objects.filter(kind=Organisation.Kind.DONOR).order_by("name")
    if not access.sees_everything:
        donors = donors.filter(pk__in=access.donor_ids)
    donors = list(donors)
    if not donors:
        raise PermissionDenied
    donor_id = _int(request.GET.get("donor"))
    donor = next((d for d in donors if d.pk == donor_id), None) if donor_id else donors[0]
    if donor is None:
        raise Http404
    context = dashboards.donor_context(access, donor, programme_id=_int(request.GET.get("programme")))
    context["donors"] = donors
    if (download := downloads.answer(request, context, downloads.DONOR, stem=f"donor-{donor.pk}")) is not None:
        return download
    context["indicator_trends"] = drilldown.indicator_sparklines(
        [row["indicator"] for row in context["indicator_rows"]]
    )
    return render(request, "web/donor_dashboard.html", context)


# Programmes ---------------------------------------------------------------------------------


@login_required
def programme_list(request):
    access = access_for(request.user)
    programmes = selectors.visible_programmes(access)
    return render(request, "web/programme_list.html", {"programmes": programmes})


@login_required
def programme_detail(request, pk: int):
    access = access_for(request.user)
    programme = selectors.programme_for_page(access, pk)
    context = {
        "programme": programme,
        "twinnings": selectors.programme_twinnings(programme),
        "workstreams": selectors.programme_workstreams(programme),
        "activities": selectors.recent_activities(Activity.objects.filter(workstream__programme=programme)),
        "indicators": selectors.programme_indicators(programme),
        "can_enter": any(access.can_enter_result(programme.pk, m) for m in programme_municipality_ids(programme.pk)),
        "can_log": _activity_rights(access)[0].filter(programme=programme).exists(),
    }
    context.update(
        dashboards.iptt_page(
            access, programme, request.GET, twinnings=context["twinnings"], workstreams=context["workstreams"]
        )
    )
    if (download := downloads.answer(request, context, downloads.PROGRAMME, stem=programme.code)) is not None:
        return download
    return render(request, "web/programme_detail.html", context)


# Municipalities -----------------------------------------------------------------------------


@login_required
def municipality_list(request):
    access = access_for(request.user)
    municipalities = list(selectors.municipalities_for(access))
    return render(request, "web/municipality_list.html", {"municipalities": municipalities})


@login_required
def municipality_detail(request, pk: int):
    access = access_for(request.user)
    municipality = get_object_or_404(Organisation, pk=pk, kind=Organisation.Kind.MUNICIPALITY)
    programmes = selectors.municipality_programmes(access, municipality)
    if not programmes and not access.sees_everything:
        raise Http404
    activities = selectors.recent_activities(
        access.scoped(Activity.objects.filter(municipality=municipality), "workstream__programme")
    )
    context = {
        "municipality": municipality,
        "programmes": programmes,
        "workstreams": selectors.municipality_workstreams(access, municipality),
        "activities": activities,
        "can_enter": any(access.can_enter_result(p.pk, municipality.pk) for p in programmes),
    }
    context.update(dashboards.municipality_results_context(access, municipality, programmes))
    stem = f"municipality-{municipality.pk}"
    if (download := downloads.answer(request, context, downloads.MUNICIPALITY, stem=stem)) is not None:
        return download
    return render(request, "web/municipality_detail.html", context)


# Activities ---------------------------------------------------------------------------------


def _activity_rights(access):
    """Workstreams in which the user may log activities, and the municipalities they may name."""
    workstreams = Workstream.objects.select_related("programme").order_by("programme__code", "name")
    if access.is_superuser:
        return workstreams, Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY).order_by("name")
    programmes = set(access.implemented_programme_ids(Membership.Role.EDITOR))
    municipalities = access.organisation_ids(Organisation.Kind.MUNICIPALITY, Membership.Role.EDITOR)
    allowed = Q(programme_id__in=programmes)
    if municipalities:
        allowed |= (
            Q(municipalities__in=municipalities) | Q(twinning__municipalities__in=municipalities)
        ) & access.programme_filter("programme")
    workstreams = workstreams.filter(allowed).distinct()
    if programmes:
        names = Organisation.objects.filter(
            Q(pk__in=municipalities)
            | Q(twinnings__programme_id__in=programmes)
            | Q(workstreams__programme_id__in=programmes),
            kind=Organisation.Kind.MUNICIPALITY,
        ).distinct()
    else:
        names = Organisation.objects.filter(pk__in=municipalities)
    return workstreams, names.order_by("name")


def _editable_activity_ids(access, activities, workstreams, municipalities) -> set[int]:
    """Of these activities, the ones the user may edit: those they could have logged as they stand,
    in a workstream and for a municipality that the create form offers them (`_activity_rights`).
    Checking the municipality too keeps the edit form from silently clearing a municipality that
    is not among its choices. Two queries for any number of activities."""
    activities = list(activities)
    workstream_ids = {a.workstream_id for a in activities}
    municipality_ids = {a.municipality_id for a in activities if a.municipality_id is not None}
    if not workstream_ids:
        return set()
    # The ordering of the querysets only matters to the form's drop-downs.
    allowed_workstreams = set(workstreams.filter(pk__in=workstream_ids).order_by().values_list("pk", flat=True))
    if not allowed_workstreams:
        return set()
    allowed_municipalities = (
        set(municipalities.filter(pk__in=municipality_ids).order_by().values_list("pk", flat=True))
        if municipality_ids
        else set()
    )
    return {
        a.pk
        for a in activities
        if a.workstream_id in allowed_workstreams
        and (a.municipality_id is None or a.municipality_id in allowed_municipalities)
        and access.can_edit_activity(a.workstream.programme_id, a.municipality_id)
    }


@login_required
def activity_list(request):
    access = access_for(request.user)
    activities = access.scoped(Activity.objects.all(), "workstream__programme")
    twinning_id, workstream_id = _int(request.GET.get("twinning")), _int(request.GET.get("workstream"))
    programme_id = _int(request.GET.get("programme"))
    if twinning_id:
        activities = activities.filter(workstream__twinning_id=twinning_id)
    if workstream_id:
        activities = activities.filter(workstream_id=workstream_id)
    if programme_id:
        activities = activities.filter(workstream__programme_id=programme_id)
    activities = activities.select_related(
        "workstream__programme", "workstream__twinning", "workstream__theme", "municipality"
    ).order_by("workstream__programme__code", "workstream__twinning__name", "workstream__name", "-start_date")
    page = Paginator(activities, 50).get_page(request.GET.get("page"))
    twinnings = access.scoped(Twinning.objects.select_related("programme"), "programme").order_by(
        "programme__code", "name"
    )
    workstreams = access.scoped(Workstream.objects.select_related("programme"), "programme").order_by(
        "programme__code", "name"
    )
    workstream_choices, municipality_choices = _activity_rights(access)
    can_log = workstream_choices.exists()
    editable = (
        _editable_activity_ids(access, page.object_list, workstream_choices, municipality_choices) if can_log else set()
    )
    query = {k: v for k, v in request.GET.items() if k != "page"}
    return render(
        request,
        "web/activity_list.html",
        {
            "page": page,
            "twinnings": twinnings,
            "workstreams": workstreams,
            "twinning_id": twinning_id,
            "workstream_id": workstream_id,
            "can_log": can_log,
            "editable": editable,
            "query": urlencode(query),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_create_view(request):
    access = access_for(request.user)
    workstreams, municipalities = _activity_rights(access)
    if not workstreams.exists():
        raise PermissionDenied
    initial = {"workstream": _int(request.GET.get("workstream"))}
    form = ActivityForm(request.POST or None, workstreams=workstreams, municipalities=municipalities, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        workstream = data.pop("workstream")
        try:
            activity = activity_create(workstream=workstream, **data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, gettext("The activity “%(title)s” was logged.") % {"title": activity.title})
            return redirect(f"{reverse('activity_list')}?workstream={workstream.pk}")
    return render(request, "web/activity_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def activity_update_view(request, pk: int):
    access = access_for(request.user)
    activity = get_object_or_404(
        access.scoped(Activity.objects.select_related("workstream", "municipality"), "workstream__programme"), pk=pk
    )
    workstreams, municipalities = _activity_rights(access)
    if activity.pk not in _editable_activity_ids(access, [activity], workstreams, municipalities):
        raise PermissionDenied
    form = ActivityForm(
        request.POST or None,
        workstreams=workstreams,
        municipalities=municipalities,
        initial=model_to_dict(activity, fields=list(ActivityForm.base_fields)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            activity = activity_update(activity=activity, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
            # The refused values are still on the instance; the page names the activity as stored.
            activity.refresh_from_db()
        else:
            messages.success(request, gettext("The activity “%(title)s” was saved.") % {"title": activity.title})
            return redirect(f"{reverse('activity_list')}?workstream={activity.workstream_id}")
    return render(request, "web/activity_form.html", {"form": form, "activity": activity})


# Result entry -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def result_entry(request):
    access = access_for(request.user)
    params = request.POST if request.method == "POST" else request.GET
    indicators = selectors.entry_indicators(access)
    if not indicators:
        raise PermissionDenied
    indicator_id = _int(params.get("indicator"))
    indicator = next((i for i in indicators if i.pk == indicator_id), None)
    context = {"indicators": indicators, "indicator": indicator}
    if indicator is None:
        context["municipalities"] = selectors.entry_municipalities(access, None)
        return render(request, "web/result_entry.html", context)
    municipalities = selectors.entry_municipalities(access, indicator.programme_id)
    context["municipalities"] = municipalities
    municipality_id = _int(params.get("municipality"))
    municipality = next((m for m in municipalities if m.pk == municipality_id), None)
    if municipality is None and len(municipalities) == 1:
        municipality = municipalities[0]
    context["municipality"] = municipality
    all_periods = selectors.indicator_periods(indicator)
    context["periods"] = all_periods
    start = _date(params.get("period"))
    if start is None:
        period = selectors.default_period(indicator, timezone.localdate())
    else:
        period = periods.period_containing(start, indicator.frequency, indicator.programme.fiscal_year_start_month)
        if period[0] != start:
            raise Http404
    context["period"] = period
    if municipality is None:
        return render(request, "web/result_entry.html", context)
    grid = Grid(
        indicator=indicator,
        municipality=municipality,
        period_start=period[0],
        period_end=period[1],
        options=selectors.disaggregation_options(indicator),
    )
    context["grid"] = grid
    if request.method == "POST" and request.POST.get("action") == "withdraw":
        if grid_withdraw(grid, request.POST, user=request.user):
            messages.success(request, gettext("The submitted results are drafts again; change them and submit."))
            query = urlencode({"indicator": indicator.pk, "municipality": municipality.pk, "period": period[0]})
            return redirect(f"{reverse('result_entry')}?{query}")
        context["save_failed"] = True
    elif request.method == "POST":
        submit = request.POST.get("action") == "submit"
        grid.bind(request.POST)
        if grid.save(user=request.user, submit=submit):
            if submit:
                messages.success(request, gettext("The results were saved and submitted for approval."))
            else:
                messages.success(request, gettext("The results were saved as drafts."))
            # Sum warnings are not flashed: the grid shown after the redirect states them once.
            query = urlencode({"indicator": indicator.pk, "municipality": municipality.pk, "period": period[0]})
            return redirect(f"{reverse('result_entry')}?{query}")
        context["save_failed"] = True
    context["warnings"] = grid.warnings()
    return render(request, "web/result_entry.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def approval_queue(request):
    """What waits for the user's approval (`web.approvals`): filters, sort, several groups
    approved or returned at once; each group the services refuse stays, with the reason."""
    access = access_for(request.user)
    if approvals.waiting(access) is None:
        raise PermissionDenied
    outcome, comment, bulk = None, "", False
    if request.method == "POST":
        action = request.POST.get("action")
        comment = request.POST.get("comment", "")
        bulk = "selected" in request.POST or request.POST.get("bulk") == "1"
        raw = request.POST.getlist("selected") if bulk else [request.POST.get("results", "")]
        batches = [approvals.parse_tokens(value) for value in raw]
        if action not in ("approve", "return") or not any(batches):
            outcome = approvals.Review(failures={"": [gettext("Choose results to approve or return.")]})
        else:
            outcome = approvals.review(
                access=access, user=request.user, action=action, comment=comment, batches=batches
            )
        if outcome.done:
            if action == "approve":
                text = ngettext("%(count)d result approved.", "%(count)d results approved.", outcome.done)
            else:
                text = ngettext(
                    "%(count)d result returned to the editor.",
                    "%(count)d results returned to the editor.",
                    outcome.done,
                )
            messages.success(request, text % {"count": outcome.done})
        if not outcome.failures:
            return redirect(request.get_full_path())  # the same filters and sort
    queue = approvals.approval_queue(access, approvals.Filters.from_query(request.GET))
    for group in queue.groups:  # what the user entered, changed or submitted is reviewed by someone else
        group.review_refusal = next(
            (refusal for r in group.results if (refusal := result_review_refusal(r, request.user)) is not None), None
        )
    failures = outcome.failures if outcome else {}
    shown = {group.key for group in queue.groups}
    return render(
        request,
        "web/approval_queue.html",
        {
            "queue": queue,
            "groups": queue.groups,
            "reviewable": any(group.review_refusal is None for group in queue.groups),
            "truncated": queue.truncated,
            "filters": queue.filters,
            "choices": queue.choices,
            "failures": failures,
            "failed_comment": comment,
            "failed_bulk": bulk,
            "failed_elsewhere": [m for key, found in failures.items() if key not in shown for m in found],
        },
        status=400 if failures else 200,
    )


@login_required
def result_history(request, pk: int):
    access = access_for(request.user)
    result = get_object_or_404(
        selectors.visible_results(access).select_related("indicator__programme", "municipality"), pk=pk
    )
    records = list(
        result.history.select_related("history_user")
        .prefetch_related("history_user__memberships__organisation")  # people named by organisation
        .order_by("history_date", "history_id")
    )
    rows = []
    previous = None
    tracked = ["value", "numerator", "denominator", "status", "comment", "evidence_url"]
    for record in records:
        changes = []
        if previous is not None:
            delta = record.diff_against(previous, included_fields=tracked)
            changes = [(c.field, c.old, c.new) for c in delta.changes]
        rows.append({"record": record, "changes": changes})
        previous = record
    rows.reverse()
    field_labels = {name: Result._meta.get_field(name).verbose_name for name in tracked}
    if result.disaggregation_category:
        result.breakdown_label = selectors.disaggregation_labels().get(
            (result.disaggregation_category, result.disaggregation_option), ""
        )
    can_reopen = result.status == Result.Status.APPROVED and access.can_approve_result(
        result.indicator.programme_id, result.municipality_id
    )
    return render(
        request,
        "web/result_history.html",
        {"result": result, "rows": rows, "field_labels": field_labels, "can_reopen": can_reopen},
    )


def _import_outcome(outcome: dict) -> str:
    """What an upload did, one clause per kind of change with its own plural form, and no clause
    for a kind that did not happen ("3 results created.", never "… 0 updated")."""
    clauses = [
        ngettext(singular, plural, outcome[key]) % {"counter": outcome[key]}
        for key, singular, plural in (
            ("created", "%(counter)s result created", "%(counter)s results created"),
            ("updated", "%(counter)s result updated", "%(counter)s results updated"),
            ("submitted", "%(counter)s result submitted for approval", "%(counter)s results submitted for approval"),
        )
        if outcome[key]
    ]
    if not clauses:
        return gettext("Nothing changed: every row of the file is as stored.")
    return pgettext("list separator", ", ").join(clauses) + "."


@login_required
@require_http_methods(["POST"])
def result_reopen_view(request, pk: int):
    """An approver reopens an approved result (back to draft) so that it can be corrected."""
    access = access_for(request.user)
    result = get_object_or_404(selectors.visible_results(access).select_related("indicator"), pk=pk)
    if not access.can_approve_result(result.indicator.programme_id, result.municipality_id):
        raise PermissionDenied
    try:
        result_reopen(result=result, user=request.user, expected_version=_int(request.POST.get("version")))
    except StaleVersion as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, " ".join(m for found in messages_by_field(error).values() for m in found))
    else:
        messages.success(request, gettext("The result was reopened as a draft; the editor can correct it."))
    return redirect("result_history", pk=result.pk)


# Offline spreadsheet ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def spreadsheet(request):
    access = access_for(request.user)
    indicators = selectors.entry_indicators(access)
    if not indicators:
        raise PermissionDenied
    programmes = sorted({i.programme for i in indicators}, key=lambda p: p.code)
    params = request.POST if request.method == "POST" else request.GET
    programme = next((p for p in programmes if p.pk == _int(params.get("programme"))), None)
    if programme is None and len(programmes) == 1:
        programme = programmes[0]
    context = {"programmes": programmes, "programme": programme}
    municipalities = selectors.entry_municipalities(access, programme.pk) if programme else []
    context["municipalities"] = municipalities
    municipality = next((m for m in municipalities if m.pk == _int(params.get("municipality"))), None)
    if municipality is None and len(municipalities) == 1:
        municipality = municipalities[0]
    context["municipality"] = municipality
    typed_on = params.get("on", "")
    on, on_errors = page_date(typed_on)
    on = on or timezone.localdate()
    context.update(on=on, on_errors=on_errors, on_typed=typed_on if on_errors else date_format(on, "SHORT_DATE_FORMAT"))
    form = UploadForm(request.POST or None, request.FILES or None)
    context["form"] = form
    if request.method == "GET" and request.GET.get("download") and programme and municipality and not on_errors:
        content = spreadsheets.build_workbook(
            programme=programme, municipality=municipality, on=on, language=request.LANGUAGE_CODE
        )
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        filename = f"results-{programme.code}-{municipality.pk}-{on.isoformat()}.xlsx"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
    if request.method == "POST":
        if form.is_valid():
            try:
                outcome = spreadsheets.import_workbook(
                    upload=form.cleaned_data["file"],
                    access=access,
                    user=request.user,
                    status=form.cleaned_data["status"],
                )
            except spreadsheets.WorkbookErrors as errors:
                context["import_errors"] = errors.errors
            else:
                messages.success(request, _import_outcome(outcome))
                query = urlencode(
                    {
                        "programme": programme.pk if programme else "",
                        "municipality": municipality.pk if municipality else "",
                    }
                )
                return redirect(f"{reverse('spreadsheet')}?{query}")
        return render(request, "web/spreadsheet.html", context, status=400)
    return render(request, "web/spreadsheet.html", context)


def bad_request(request, exception):
    """A form the page cannot take (too many fields or too large): the site's page in the
    request's language saying that nothing was saved, not Django's bare one, which has no
    layout and no Arabic. (The API answers these itself, in JSON.)"""
    return render(request, "400.html", status=400)
