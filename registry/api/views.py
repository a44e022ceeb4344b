"""The registry's API (docs/design.md §6): iati-imports/, interventions/, sector-themes/,
overlap-candidates/ and reports/3w/, and the location aliases (unmatched-locations/,
location-aliases/; docs/api.md). Reads are scoped by `registry.selectors`; writes go through
`registry.services`; who may write is `Access.can_edit_registry`."""

import csv
import io
from datetime import date

import django_filters
from django.db.models import Q
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.serializers import date_text, decimal_text
from common.api.views import IdFilterSet, JSONErrorsMixin, filterset_for
from common.spreadsheets import spreadsheet_cell
from projects.access import access_for
from projects.api.base import ServiceViewSet
from reporting.api.views import CSVRenderer

from .. import selectors, services
from ..models import IatiImport, Intervention, InterventionLocation, LocationAlias, OverlapCandidate, SectorTheme
from .serializers import (
    IatiImportSerializer,
    InterventionSerializer,
    LocationAliasSerializer,
    OverlapCandidateSerializer,
    OverlapReviewSerializer,
    SectorThemeSerializer,
    UnmatchedLocationSerializer,
)

REGISTRY_EDITORS_ONLY = _("The registry's imports are kept by ministry editors.")


class IatiImportViewSet(ServiceViewSet):
    """IATI files read into the registry. POST a multipart `file`; each activity is imported whole
    or reported in `errors` with its XPath; importing the same file again changes nothing."""

    base_queryset = IatiImport.objects.select_related("imported_by")
    serializer_class = IatiImportSerializer
    parser_classes = [MultiPartParser, FormParser]
    http_method_names = ["get", "post", "head", "options"]
    filterset_fields = ["status"]
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not self.access.can_edit_registry():
            raise PermissionDenied(REGISTRY_EDITORS_ONLY)

    def may_write(self, access):
        return access.can_edit_registry()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        record = services.iati_import_create(source=upload, file_name=upload.name, user=request.user)
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)


class InterventionFilterSet(IdFilterSet):
    municipality = django_filters.NumberFilter(field_name="municipalities", distinct=True)
    theme = django_filters.NumberFilter(field_name="themes", distinct=True)
    donor = django_filters.NumberFilter(field_name="donors", distinct=True)
    implementer = django_filters.NumberFilter(field_name="implementers", distinct=True)
    active_on = django_filters.DateFilter(method="filter_active_on", help_text=_("Work going on that day."))

    class Meta:
        model = Intervention
        fields = {"source": ["exact"], "programme": ["exact"], "iati_identifier": ["exact"], "status": ["exact"]}

    def filter_active_on(self, queryset, name, value):
        return selectors.filter_interventions(queryset, active_on=value)


class InterventionViewSet(ServiceViewSet):
    """Every piece of donor-funded work the ministry knows of: imported from IATI files and the
    programmes tracked here. Read-only: it follows the files and the programmes."""

    serializer_class = InterventionSerializer
    http_method_names = ["get", "head", "options"]
    filterset_class = InterventionFilterSet
    ordering_fields = ["id", "start_date", "end_date", "title_en", "title_ar", "budget"]
    ordering = ["id"]

    def get_queryset(self):
        return selectors.with_relations(selectors.visible_interventions(self.access))


class SectorThemeViewSet(ServiceViewSet):
    """How DAC sectors map to the ministry's themes; ministry editors keep it. Changing it moves
    the themes of the imported interventions with that sector."""

    base_queryset = SectorTheme.objects.all()
    serializer_class = SectorThemeSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]
    filterset_class = filterset_for(SectorTheme, {"dac_code": ["exact"], "theme": ["exact"]})
    ordering_fields = ["id", "dac_code"]
    ordering = ["dac_code", "theme"]

    def may_write(self, access):
        return access.can_edit_registry()

    def may_write_object(self, access, obj):
        return access.can_edit_registry()

    def create_object(self, data):
        return services.sector_theme_create(**data)

    def delete_object(self, instance):
        services.sector_theme_delete(mapping=instance)


class OverlapCandidateFilterSet(IdFilterSet):
    intervention = django_filters.NumberFilter(method="filter_intervention", help_text=_("Either of the pair."))
    min_score = django_filters.NumberFilter(field_name="score", lookup_expr="gte")

    class Meta:
        model = OverlapCandidate
        fields = {"status": ["exact"]}

    def filter_intervention(self, queryset, name, value):
        return queryset.filter(Q(intervention_a_id=value) | Q(intervention_b_id=value))


class OverlapCandidateViewSet(ServiceViewSet):
    """Pairs of interventions that may be the same work, with their score and reasons. The
    ministry sees all; a donor the pairs that involve its own interventions. Ministry editors
    review them: `POST overlap-candidates/{id}/review/` {status, note}; nothing is merged."""

    serializer_class = OverlapCandidateSerializer
    http_method_names = ["get", "post", "head", "options"]
    filterset_class = OverlapCandidateFilterSet
    ordering_fields = ["id", "score", "updated_at"]
    ordering = ["-score", "id"]

    def get_queryset(self):
        return selectors.visible_candidates(self.access).select_related("reviewed_by")

    def may_write(self, access):
        return access.can_edit_registry()

    def may_write_object(self, access, obj):
        return access.can_edit_registry()

    @extend_schema(exclude=True)
    def create(self, request, *args, **kwargs):
        raise MethodNotAllowed("POST", _("Candidates come from the detector; they are reviewed, not created."))

    @extend_schema(request=OverlapReviewSerializer, responses={200: OverlapCandidateSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        candidate = self.get_object()
        body = OverlapReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reviewed = services.overlap_candidate_review(
            candidate=candidate,
            status=body.validated_data["status"],
            note=body.validated_data["note"],
            user=request.user,
        )
        return Response(self.get_serializer(reviewed).data)


class UnmatchedLocationViewSet(ServiceViewSet):
    """Locations of imported activities that no municipality matched (docs/registry.md "Where"),
    of the interventions the user sees. A ministry editor maps one with `POST location-aliases/`;
    it then leaves this list, with every other location of that name or code."""

    serializer_class = UnmatchedLocationSerializer
    http_method_names = ["get", "head", "options"]
    filterset_class = filterset_for(InterventionLocation, {"intervention": ["exact"]})
    ordering_fields = ["id", "name", "code"]
    ordering = ["name", "code", "id"]

    def get_queryset(self):
        return selectors.visible_unmatched_locations(self.access)


class LocationAliasViewSet(ServiceViewSet):
    """Location names and codes a person mapped to a municipality once; imports match them
    without asking again. `POST` {location, municipality} maps an unmatched location (and every
    stored location of its name or code); `DELETE` forgets a mapping made by mistake and matches
    its locations again without it. Ministry editors write; every signed-in user reads."""

    base_queryset = LocationAlias.objects.select_related("created_by")
    serializer_class = LocationAliasSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]
    filterset_class = filterset_for(LocationAlias, {"municipality": ["exact"]})
    ordering_fields = ["id", "label", "created_at"]
    ordering = ["label", "id"]

    def may_write(self, access):
        return access.can_edit_registry()

    def may_write_object(self, access, obj):
        return access.can_edit_registry()

    def create_object(self, data):
        return services.location_alias_create(
            location=data["location"], municipality=data["municipality"], user=self.request.user
        )

    def delete_object(self, instance):
        services.location_alias_delete(alias=instance)


THREE_W_COLUMNS = [
    ("municipality", "#adm2+name"),
    ("theme", "#sector"),
    ("sector", "#sector+code"),
    ("donor", "#org+funder"),
    ("implementer", "#org+impl"),
    ("intervention", "#activity+name"),
    ("start_date", "#date+start"),
    ("end_date", "#date+end"),
    ("budget", "#value+budget"),
    ("currency", "#currency"),
]
THREE_W_ROW = inline_serializer(
    "ThreeWRow",
    {
        "municipality": serializers.CharField(),
        "municipality_id": serializers.IntegerField(allow_null=True),
        "pcode": serializers.CharField(),
        "theme": serializers.CharField(),
        "theme_id": serializers.IntegerField(allow_null=True),
        "sector": serializers.CharField(),
        "donor": serializers.CharField(),
        "implementer": serializers.CharField(),
        "intervention": serializers.CharField(),
        "intervention_id": serializers.IntegerField(),
        "start_date": serializers.DateField(allow_null=True),
        "end_date": serializers.DateField(allow_null=True),
        "budget": serializers.CharField(allow_null=True),
        "currency": serializers.CharField(),
    },
)
THREE_W_SCHEMA = inline_serializer("ThreeWReport", {"rows": THREE_W_ROW.__class__(many=True)})


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as error:
        raise ValidationError({name: [_("Give a whole number.")]}) from error
    if value < 1 or value > 2**63 - 1:
        raise ValidationError({name: [_("Give a whole number.")]})
    return value


def _date_param(request, name: str) -> date | None:
    raw = request.query_params.get(name, "")
    if raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise ValidationError({name: [_("Give a date as YYYY-MM-DD.")]}) from error


class ThreeWView(JSONErrorsMixin, APIView):
    """Who does what where: one row per intervention, municipality and theme, over the
    interventions the user sees. `?format=csv` gives a CSV with the HXL hashtag row under its
    header."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["json", "csv"], required=False),
            OpenApiParameter("municipality", int, required=False),
            OpenApiParameter("theme", int, required=False),
            OpenApiParameter("donor", int, required=False),
            OpenApiParameter("active_on", OpenApiTypes.DATE, required=False),
        ],
        responses={(200, "application/json"): THREE_W_SCHEMA, (200, "text/csv"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        output = request.query_params.get("format", "json")
        if output not in ("json", "csv", "api"):
            raise ValidationError({"format": [_("Choose json or csv.")]})
        rows = selectors.three_w_rows(
            access_for(request.user),
            municipality=_int_param(request, "municipality"),
            theme=_int_param(request, "theme"),
            donor=_int_param(request, "donor"),
            active_on=_date_param(request, "active_on"),
        )
        if output == "csv":
            response = HttpResponse(three_w_csv(rows), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = content_disposition_header(True, "3w.csv")
            return response
        return Response({"rows": [plain_row(row) for row in rows]})


def plain_row(row: dict) -> dict:
    return {
        "municipality": row["municipality"],
        "municipality_id": row["municipality_id"],
        "pcode": row["pcode"],
        "theme": row["theme"],
        "theme_id": row["theme_id"],
        "sector": row["sector"],
        "donor": row["donor"],
        "implementer": row["implementer"],
        "intervention": row["intervention"],
        "intervention_id": row["intervention_id"],
        "start_date": date_text(row["start_date"]),
        "end_date": date_text(row["end_date"]),
        "budget": decimal_text(row["budget"], 2),
        "currency": row["currency"],
    }


def three_w_csv(rows: list[dict]) -> bytes:
    """CSV (UTF-8 with a byte-order mark, so spreadsheets read Arabic), its header, then the HXL
    hashtag row, then the rows. Cells that a spreadsheet would run as a formula are escaped
    (`common.spreadsheets`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([name for name, _tag in THREE_W_COLUMNS])
    writer.writerow([tag for _name, tag in THREE_W_COLUMNS])
    for row in rows:
        plain = plain_row(row)
        writer.writerow([_cell(plain[name]) for name, _tag in THREE_W_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell(value):
    return "" if value is None else spreadsheet_cell(value)
