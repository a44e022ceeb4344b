"""The report endpoints: reports/iptt/, reports/alignment/, reports/completeness/, exports/iati/.
Each answers in a fixed number of queries and only over what the user sees."""

import datetime
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.views import APIView

from common.api.views import JSONErrorsMixin
from projects.access import access_for
from projects.models import Programme
from reporting import completeness, reports
from reporting.exports import completeness as completeness_export
from reporting.exports import iati, iptt
from rollups.models import Rollup

# Reports ------------------------------------------------------------------------------------


class PassthroughRenderer(BaseRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


class CSVRenderer(PassthroughRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XLSXRenderer(PassthroughRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None


class XMLRenderer(PassthroughRenderer):
    media_type = "application/xml"
    format = "xml"
    charset = "utf-8"


PROGRAMME_PARAM = OpenApiParameter("programme", int, required=True, description=_("A programme id you may see."))
OPTIONAL_PROGRAMME_PARAM = OpenApiParameter(
    "programme", int, required=False, description=_("Narrow the report to one programme you may see.")
)
FORMAT_PARAM = OpenApiParameter("format", str, enum=["json", "csv", "xlsx"], required=False)
AS_OF_PARAM = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    required=False,
    description=_("Progress to date as of this date (YYYY-MM-DD): the periods ended by then count. Default: today."),
)
SCOPE_PARAM = OpenApiParameter(
    "scope",
    str,
    enum=["programme", "twinning", "municipality"],
    required=False,
    description=_("The programme as a whole (default), or one of its twinnings or municipalities (give scope_id)."),
)
SCOPE_ID_PARAM = OpenApiParameter(
    "scope_id", int, required=False, description=_("The twinning or municipality id, with scope.")
)
DISAGGREGATED_PARAM = OpenApiParameter(
    "disaggregated", bool, required=False, description=_("1: a row per disaggregation option under each total.")
)

PERIOD_CELL = inline_serializer(
    "IPTTPeriod",
    {
        "period_start": serializers.DateField(),
        "period_end": serializers.DateField(),
        "target": serializers.CharField(allow_null=True),
        "actual": serializers.CharField(allow_null=True),
        "percent_of_target": serializers.CharField(allow_null=True),
        "status": serializers.CharField(),
    },
)
IPTT_ROW = inline_serializer(
    "IPTTRow",
    {
        "indicator": serializers.IntegerField(),
        "code": serializers.CharField(),
        "name": serializers.CharField(),
        "unit": serializers.CharField(allow_null=True, allow_blank=True),
        "direction": serializers.CharField(),
        "baseline_value": serializers.CharField(allow_null=True),
        "disaggregation": serializers.DictField(child=serializers.CharField()),
        "disaggregation_label": serializers.CharField(allow_blank=True),
        "periods": PERIOD_CELL.__class__(many=True),
        "lop_target": serializers.CharField(allow_null=True),
        "lop_actual": serializers.CharField(allow_null=True),
        "lop_percent_of_target": serializers.CharField(allow_null=True),
        "lop_status": serializers.CharField(),
        "target_to_date": serializers.CharField(allow_null=True),
        "percent_to_date": serializers.CharField(allow_null=True),
        "status_to_date": serializers.CharField(),
    },
)
IPTT_SCHEMA = inline_serializer(
    "IPTTReport",
    {
        "programme": serializers.IntegerField(),
        "scope": serializers.CharField(),
        "scope_id": serializers.IntegerField(),
        "rows": IPTT_ROW.__class__(many=True),
        "as_of": serializers.DateField(),
        "computed_at": serializers.DateTimeField(allow_null=True),
        "pending": serializers.BooleanField(),
    },
)
ids = serializers.ListField(child=serializers.IntegerField())
ALIGNED = inline_serializer(
    "AlignedProgress",
    {
        "id": serializers.IntegerField(),
        "code": serializers.CharField(),
        "title": serializers.CharField(),
        "progress": serializers.CharField(allow_null=True),
        "progress_to_date": serializers.CharField(allow_null=True),
        "indicators": ids,
        "not_measurable": ids,
        "programmes": ids,
        "donors": ids,
        "municipalities": ids,
    },
)
ALIGNMENT_SCHEMA = inline_serializer(
    "AlignmentReport",
    {
        "national_targets": ALIGNED.__class__(many=True),
        "funder_goals": ALIGNED.__class__(many=True),
        "matrix": inline_serializer(
            "AlignmentMatrixCell",
            {
                "national_target": serializers.IntegerField(),
                "funder_goal": serializers.IntegerField(),
                "progress": serializers.CharField(allow_null=True),
                "progress_to_date": serializers.CharField(allow_null=True),
                "indicators": ids,
            },
            many=True,
        ),
        "gaps": inline_serializer("AlignmentGaps", {"national_targets": ids, "funder_goals": ids}),
        "overlaps": inline_serializer(
            "AlignmentOverlap",
            {
                "municipality": serializers.IntegerField(),
                "theme": serializers.IntegerField(),
                "programmes": ids,
                "donors": ids,
            },
            many=True,
        ),
        "as_of": serializers.DateField(),
        "computed_at": serializers.DateTimeField(allow_null=True),
        "pending": serializers.BooleanField(),
    },
)


def json_bytes(report) -> bytes:
    """A report rendered once, so the cache holds the bytes and a hit costs no serialisation."""
    return json.dumps(reports.plain(report), ensure_ascii=False, separators=(",", ":")).encode()


def json_response(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="application/json")


def visible_programme_id(request, required: bool = True) -> int | None:
    """The `?programme=` id, if the user may see that programme (else 404; no query for users who
    see everything, so a cached report costs no lookup)."""
    raw = request.query_params.get("programme", "")
    if raw == "" and not required:
        return None
    if raw == "":
        raise ValidationError({"programme": [_("Give ?programme=<id>.")]})
    try:
        programme_id = int(raw)
    except ValueError as error:
        raise ValidationError({"programme": [_("A programme id is a whole number.")]}) from error
    if programme_id < 1 or programme_id > 2**63 - 1 or not access_for(request.user).sees_programme(programme_id):
        raise Http404
    return programme_id


def load_programme(programme_id: int) -> Programme:
    programme = Programme.objects.filter(pk=programme_id).first()
    if programme is None:
        raise Http404
    return programme


def report_options(request) -> reports.IPTTOptions:
    """The IPTT options of the query string; a 400 naming each parameter at fault."""
    try:
        return reports.iptt_options(request.query_params)
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict) from error


def report_as_of(request):
    """The `?as_of=` date of a report (None: today's, as stored); a 400 naming `as_of` if malformed."""
    try:
        return reports.as_of_date(request.query_params.get("as_of"))
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict) from error


class IPTTView(JSONErrorsMixin, APIView):
    """The Indicator Performance Tracking Table of a programme, from stored rollups: programme scope
    (or `?scope=municipality|twinning&scope_id=`), totals (and `&disaggregated=1`: every option under
    its total), with progress to date as of today or `?as_of=`. `?format=csv` or `?format=xlsx`
    downloads it. Says when its numbers were computed and whether a recompute is pending."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        parameters=[PROGRAMME_PARAM, FORMAT_PARAM, AS_OF_PARAM, SCOPE_PARAM, SCOPE_ID_PARAM, DISAGGREGATED_PARAM],
        responses={
            (200, "application/json"): IPTT_SCHEMA,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
        },
    )
    def get(self, request):
        programme_id = visible_programme_id(request)
        access = access_for(request.user)
        output = request.query_params.get("format", "json")
        if output not in ("json", "csv", "xlsx", "api"):
            raise ValidationError({"format": [_("Choose json, csv or xlsx.")]})
        options = report_options(request)
        programme = None
        if options.scope != Rollup.Scope.PROGRAMME:  # a municipality or twinning the user may see in it
            programme = load_programme(programme_id)
            if not reports.iptt_scope_visible(access, programme, options):
                raise Http404
        if output in ("json", "api"):
            return json_response(
                reports.cached(
                    reports.cache_key("iptt-json", access, programme_id, *options.cache_parts),
                    lambda: json_bytes(
                        reports.iptt(
                            programme=programme or load_programme(programme_id), access=access, options=options
                        )
                    ),
                )
            )
        programme = programme or load_programme(programme_id)
        report = reports.cached(
            reports.cache_key("iptt", access, programme_id, *options.cache_parts),
            lambda: reports.iptt(programme=programme, access=access, options=options),
        )
        if output == "csv":
            response = HttpResponse(iptt.to_csv(report), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(iptt.to_xlsx(report), content_type=XLSXRenderer.media_type)
        response["Content-Disposition"] = content_disposition_header(True, f"iptt-{programme.code}.{output}")
        return response


class AlignmentReportView(APIView):
    """The alignment report (docs/design.md §5) over the programmes the user sees (optionally one),
    with progress to date as of today or `?as_of=`."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OPTIONAL_PROGRAMME_PARAM, AS_OF_PARAM], responses={200: ALIGNMENT_SCHEMA})
    def get(self, request):
        programme_id = visible_programme_id(request, required=False)
        as_of = report_as_of(request)
        access = access_for(request.user)

        def compute():
            programme = load_programme(programme_id) if programme_id is not None else None
            return json_bytes(reports.alignment(access=access, programme=programme, as_of=as_of))

        key = reports.cache_key("alignment", access, programme_id or "all", as_of or timezone.localdate())
        return json_response(reports.cached(key, compute))


class IATIExportView(JSONErrorsMixin, APIView):
    """IATI 2.03 activity XML of a programme, with its results (valid against the official XSD)."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [XMLRenderer, JSONRenderer]

    @extend_schema(
        parameters=[PROGRAMME_PARAM],
        responses={(200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="IATI XML")},
    )
    def get(self, request):
        programme = load_programme(visible_programme_id(request))
        body = iati.iati_activity_xml(programme=programme, access=access_for(request.user))
        response = HttpResponse(body, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, f"iati-{programme.code}.xml")
        return response


# Completeness -------------------------------------------------------------------------------

AS_OF_PARAM = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, required=False, description=_("Count the periods due by this day (default: today).")
)
COMPLETENESS_COUNTS = {
    "expected": serializers.IntegerField(),
    "on_time": serializers.IntegerField(),
    "late": serializers.IntegerField(),
    "missing": serializers.IntegerField(),
    "rate": serializers.CharField(allow_null=True),
}
COMPLETENESS_SCHEMA = inline_serializer(
    "CompletenessReport",
    {
        "programme": serializers.IntegerField(allow_null=True),
        "as_of": serializers.DateField(),
        "rows": inline_serializer(
            "CompletenessRow",
            {
                "programme": serializers.IntegerField(),
                "programme_code": serializers.CharField(),
                "indicator": serializers.IntegerField(),
                "indicator_code": serializers.CharField(),
                "indicator_name": serializers.CharField(),
                "municipality": serializers.IntegerField(),
                "municipality_name": serializers.CharField(),
                **COMPLETENESS_COUNTS,
            },
            many=True,
        ),
        "totals": inline_serializer(
            "CompletenessTotals",
            {
                "by_municipality": inline_serializer(
                    "CompletenessMunicipalityTotal",
                    {
                        "municipality": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        **COMPLETENESS_COUNTS,
                    },
                    many=True,
                ),
                "by_programme": inline_serializer(
                    "CompletenessProgrammeTotal",
                    {
                        "programme": serializers.IntegerField(),
                        "code": serializers.CharField(),
                        "name": serializers.CharField(),
                        **COMPLETENESS_COUNTS,
                    },
                    many=True,
                ),
                "national": inline_serializer("CompletenessNationalTotal", COMPLETENESS_COUNTS),
            },
        ),
        "computed_at": serializers.DateTimeField(),
    },
)


def as_of_param(request) -> datetime.date:
    raw = request.query_params.get("as_of", "")
    if raw == "":
        return timezone.localdate()
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError as error:
        raise ValidationError({"as_of": [_("Give a date as YYYY-MM-DD.")]}) from error
    return day


class CompletenessView(JSONErrorsMixin, APIView):
    """Which results were reported on time, late or not at all (docs/design.md §6,
    docs/reporting-cycle.md), over the programmes the user sees (optionally one), for the periods
    due by `as_of`. `?format=csv` or `?format=xlsx` downloads it."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, XLSXRenderer]

    def perform_content_negotiation(self, request, force=False):
        # An unknown ?format= is a 400 naming the parameter, not content negotiation's bare 404.
        if not force and request.query_params.get("format", "json") not in ("json", "csv", "xlsx", "api"):
            raise ValidationError({"format": [_("Choose json, csv or xlsx.")]})
        return super().perform_content_negotiation(request, force=force)

    @extend_schema(
        parameters=[OPTIONAL_PROGRAMME_PARAM, AS_OF_PARAM, FORMAT_PARAM],
        responses={
            (200, "application/json"): COMPLETENESS_SCHEMA,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
        },
    )
    def get(self, request):
        programme_id = visible_programme_id(request, required=False)
        as_of = as_of_param(request)
        access = access_for(request.user)
        output = request.query_params.get("format", "json")
        if output in ("json", "api"):
            key = completeness.cache_key("completeness-json", access, as_of, programme_id)
            return json_response(
                reports.cached(
                    key,
                    lambda: json_bytes(
                        completeness.completeness(access=access, as_of=as_of, programme_id=programme_id)
                    ),
                )
            )
        report = completeness.cached_completeness(access=access, as_of=as_of, programme_id=programme_id)
        if output == "csv":
            response = HttpResponse(completeness_export.to_csv(report), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(completeness_export.to_xlsx(report), content_type=XLSXRenderer.media_type)
        name = f"completeness-{programme_id or 'all'}-{as_of.isoformat()}.{output}"
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response
