"""The "Download XLSX" and "Download CSV" links beside a table's heading (`web.downloads`)."""

from django import template
from django.utils.http import urlencode

register = template.Library()


@register.inclusion_tag("web/includes/download_links.html", takes_context=True)
def download_links(context, table: str, heading_id: str):
    """Links to the page's own URL with its parameters kept, so the file holds what the page shows
    and is in its language; `heading_id` names the table for screen readers."""
    request = context["request"]
    params = [(k, v) for k, v in request.GET.items() if k not in ("download", "table")]
    return {
        "heading_id": heading_id,
        "xlsx": "?" + urlencode([*params, ("download", "xlsx"), ("table", table)]),
        "csv": "?" + urlencode([*params, ("download", "csv"), ("table", table)]),
    }
