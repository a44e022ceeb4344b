"""Template helpers for the pages: navigation by role, numbers, progress bars, status badges,
bilingual names."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from indicators.models import Result
from partners.models import Membership, Organisation
from projects.access import access_for
from rollups.models import Rollup

register = template.Library()

# A name or title may be given in one language only (common.translations). Shown in the other
# language, it carries that language and direction, so a screen reader reads it right, and a
# note in the page's language.
OTHER_LANGUAGE = {
    "en": ("ar", "rtl", _("(in Arabic)")),
    "ar": ("en", "ltr", _("(in English)")),
}

# A badge shows a rollup's progress status or a result's workflow status, labelled by their models.
STATUS_LABELS = {**dict(Rollup.Status.choices), **dict(Result.Status.choices)}


@register.simple_tag(takes_context=True)
def nav_items(context):
    """The main navigation for the signed-in user: only the pages their roles open."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    access = access_for(request.user)
    items = []
    if access.sees_everything:
        items.append((reverse("ministry_dashboard"), _("Ministry dashboard")))
    if access.donor_ids:
        items.append((reverse("donor_dashboard"), _("Donor dashboard")))
    items.append((reverse("programme_list"), _("Programmes")))
    items.append((reverse("municipality_list"), _("Municipalities")))
    items.append((reverse("activity_list"), _("Activities")))
    items.append((reverse("completeness"), _("Reporting completeness")))
    can_enter = (
        access.is_superuser
        or access.organisation_ids(Organisation.Kind.MUNICIPALITY, Membership.Role.EDITOR)
        or access.organisation_ids(Organisation.Kind.IMPLEMENTER, Membership.Role.EDITOR)
    )
    if can_enter:
        items.append((reverse("result_entry"), _("Enter results")))
        items.append((reverse("spreadsheet"), _("Offline spreadsheet")))
    can_approve = access.is_superuser or access.organisation_ids(role=Membership.Role.APPROVER)
    if can_approve:
        items.append((reverse("approval_queue"), _("Approvals")))
    if access.sees_everything or access.may_write_anything():
        items.append((reverse("setup_home"), _("Set-up")))
    current = request.path
    return [{"url": url, "label": label, "current": current == url} for url, label in items]


def _round2(value) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def num(value):
    """A stored Decimal shown with at most two decimals (half-up), localised; '—' when undefined."""
    if value is None or value == "":
        return "—"
    rounded = _round2(value)
    if rounded is None:
        return "—"
    if rounded == rounded.to_integral_value():
        return number_format(rounded.to_integral_value(), decimal_pos=0, use_l10n=True, force_grouping=True)
    return number_format(rounded.normalize(), use_l10n=True, force_grouping=True)


# A no-break space keeps the sign beside its number: "61.6 %", never "%" alone on the next line.
PERCENT_SIGN = "\u00a0%"


@register.filter
def pct(value, places=1):
    """A percentage with a fixed number of decimals (one in tables; `pct:2` where precision
    matters), half-up, grouped and localised; '—' when undefined."""
    if value is None or value == "":
        return "—"
    try:
        exponent = Decimal(1).scaleb(-int(places))
        rounded = Decimal(str(value)).quantize(exponent, ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return "—"
    return number_format(rounded, decimal_pos=int(places), use_l10n=True, force_grouping=True) + PERCENT_SIGN


@register.filter
def bar_width(value):
    """Width of a progress bar in percent of the track, capped at 100."""
    rounded = _round2(value) if value not in (None, "") else None
    if rounded is None:
        return 0
    return max(0, min(100, int(rounded)))


@register.filter
def country_name(code):
    """A stored ISO code ("LY") as the country's name in the page's language."""
    if not code:
        return "—"
    return countries.name(code) or code


@register.filter
def acting_for(user):
    """Who did something, as the pages name people: their organisation, in the page's language
    (people's own names are mostly stored in Latin letters). Lists prefetch
    `memberships__organisation`; a single user costs one query."""
    if user is None:
        return "—"
    prefetched = getattr(user, "_prefetched_objects_cache", {})
    if "memberships" in prefetched:
        organisations = [m.organisation for m in sorted(prefetched["memberships"], key=lambda m: m.pk)]
    else:
        organisations = list(Organisation.objects.filter(memberships__user=user).order_by("memberships__pk")[:1])
    if organisations:
        return organisations[0].name
    if user.is_superuser:
        return Membership.Role.ADMIN.label
    return user.get_full_name() or user.get_username()


@register.filter
def measure_and_unit(indicator):
    """The unit only when it adds something: "Score (0–100)", never "Score (Score (0–100))"."""
    measure = str(indicator.get_measure_display())
    unit = (indicator.unit or "").strip()
    if not unit or (unit == "%" and indicator.measure == "percentage"):
        return measure
    if measure.casefold() in unit.casefold():
        return unit
    return f"{measure} ({unit})"


@register.filter
def status_label(status):
    return STATUS_LABELS.get(status, status)


@register.filter
def get_item(mapping, key):
    if mapping is None:
        return None
    return mapping.get(key)


@register.inclusion_tag("web/includes/progress.html")
def progress(value, status="", label=""):
    return {"value": None if value == "" else value, "status": status or Rollup.Status.NO_DATA, "label": label}


@register.inclusion_tag("web/includes/status.html")
def status_badge(status):
    """A status as a coloured, labelled badge; no status (no rollup row yet) is "No data"."""
    return {"status": status or Rollup.Status.NO_DATA}


@register.inclusion_tag("web/includes/freshness.html")
def freshness(info):
    return {"info": info}


@register.simple_tag
def translated(obj, field: str):
    """`obj`'s `field` in the page's language; when that is empty, the other language's text,
    marked with its `lang` and `dir` and a note. Nothing when neither is given."""
    if obj is None:
        return ""
    language = "ar" if (get_language() or "").startswith("ar") else "en"
    text = getattr(obj, f"{field}_{language}", None)
    if text:
        return text
    other, direction, note = OTHER_LANGUAGE[language]
    text = getattr(obj, f"{field}_{other}", None)
    if not text:
        return ""
    return format_html(
        '<span lang="{}" dir="{}" class="other-language">{}</span> <span class="other-language-note">{}</span>',
        other,
        direction,
        text,
        note,
    )
