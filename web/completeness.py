"""The completeness page: which results came on time, late or not at all, over what the user
sees (`reporting.completeness`, the same report and cache as `reports/completeness/`)."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode

from projects.access import access_for
from projects.models import Programme
from reporting.completeness import cached_completeness

from . import downloads
from .forms import page_date


def _with_percent(entries: list[dict]) -> list[dict]:
    """Copies (the cached report is shared) with `percent` (rate × 100) and a status for the badge."""
    shown = []
    for entry in entries:
        rate = entry["rate"]
        percent = None if rate is None else rate * Decimal(100)
        status = "no_data" if rate is None else "on_track" if entry["missing"] == 0 else "below"
        shown.append({**entry, "percent": percent, "status": status})
    return shown


@login_required
def completeness_report(request):
    access = access_for(request.user)
    programmes = list(access.programmes(Programme.objects.only("id", "code")).order_by("code"))
    try:
        chosen = int(request.GET.get("programme", ""))
    except ValueError:
        chosen = None
    programme = next((p for p in programmes if p.pk == chosen), None)
    typed = request.GET.get("as_of", "")
    as_of, as_of_errors = page_date(typed)
    as_of = as_of or timezone.localdate()  # nothing or a mistake typed: today's report, the mistake said
    report = cached_completeness(access=access, as_of=as_of, programme_id=programme.pk if programme else None)
    query = {"as_of": as_of.isoformat(), **({"programme": programme.pk} if programme else {})}
    context = {
        "programmes": programmes,
        "programme": programme,
        "as_of": as_of,
        "as_of_typed": typed if as_of_errors else date_format(as_of, "SHORT_DATE_FORMAT"),
        "as_of_errors": as_of_errors,
        "national": _with_percent([report["totals"]["national"]])[0],
        "by_programme": _with_percent(report["totals"]["by_programme"]),
        "by_municipality": _with_percent(report["totals"]["by_municipality"]),
        "rows": _with_percent(report["rows"]),
        "csv_query": urlencode({**query, "format": "csv"}),
        "xlsx_query": urlencode({**query, "format": "xlsx"}),
    }
    stem = f"completeness-{as_of.isoformat()}"
    if (download := downloads.answer(request, context, downloads.COMPLETENESS, stem=stem)) is not None:
        return download
    return render(request, "web/completeness.html", context)
