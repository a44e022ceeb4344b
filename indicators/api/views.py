import django_filters
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from common.api.exceptions import PayloadTooLarge
from common.api.pagination import KeysetPagination
from common.api.views import FILTER_BACKENDS, ValuesListMixin, filterset_for
from projects.api.base import ServiceViewSet
from projects.api.views import ProgrammeChildViewSet

from .. import services
from ..models import (
    Alignment,
    DisaggregationCategory,
    FunderGoal,
    Indicator,
    NationalTarget,
    Result,
    StandardIndicator,
    Target,
)
from .filters import ResultFilter
from .serializers import (
    AlignmentSerializer,
    FunderGoalSerializer,
    IndicatorSerializer,
    NationalTargetSerializer,
    ResultRowSerializer,
    ResultSerializer,
    StandardIndicatorSerializer,
    TargetSerializer,
    TransitionSerializer,
)


class NationalTargetViewSet(ServiceViewSet):
    """The ministry's national plan: seen by every signed-in user, kept by ministry editors."""

    base_queryset = NationalTarget.objects.all()
    serializer_class = NationalTargetSerializer
    filterset_fields = {"owner": ["exact"], "code": ["exact"], "deadline": ["exact", "gte", "lte"]}
    ordering_fields = ["id", "code", "deadline"]
    ordering = ["id"]

    def may_write(self, access):
        return access.can_edit_national_targets()

    def may_write_object(self, access, obj):
        return access.can_edit_national_targets()

    def create_object(self, data):
        return services.national_target_create(**data)

    def update_object(self, instance, data):
        return services.national_target_update(national_target=instance, **data)

    def delete_object(self, instance):
        services.national_target_delete(national_target=instance)


class FunderGoalViewSet(ServiceViewSet):
    """A donor's results framework: seen by its members and the ministry, kept by its editors and
    the ministry's (`Access.can_edit_funder_goals`)."""

    base_queryset = FunderGoal.objects.all()
    serializer_class = FunderGoalSerializer
    filterset_fields = {"donor": ["exact"], "parent": ["exact", "isnull"], "code": ["exact"]}
    ordering_fields = ["id", "code"]
    ordering = ["id"]

    def scope(self, queryset, access):
        return queryset.filter(access.funder_goal_filter())

    def may_write(self, access):
        return access.edits_some_funder_goals()

    def may_write_object(self, access, obj):
        return access.can_edit_funder_goals(obj.donor_id)

    def may_write_data(self, access, data, instance=None):
        donor = data.get("donor")
        return donor is None or access.can_edit_funder_goals(donor.pk)

    def create_object(self, data):
        return services.funder_goal_create(**data)

    def update_object(self, instance, data):
        return services.funder_goal_update(funder_goal=instance, **data)

    def delete_object(self, instance):
        services.funder_goal_delete(funder_goal=instance)


class IndicatorViewSet(ProgrammeChildViewSet):
    base_queryset = Indicator.objects.prefetch_related(
        Prefetch("disaggregations", queryset=DisaggregationCategory.objects.only("id", "code"))
    )
    serializer_class = IndicatorSerializer
    filterset_fields = {
        "programme": ["exact"],
        "workstream": ["exact"],
        "level": ["exact"],
        "measure": ["exact"],
        "frequency": ["exact"],
        "code": ["exact"],
    }
    ordering_fields = ["id", "code", "name_en", "name_ar", "level"]
    ordering = ["id"]

    def create_object(self, data):
        return services.indicator_create(**data)

    def update_object(self, instance, data):
        return services.indicator_update(indicator=instance, **data)

    def delete_object(self, instance):
        services.indicator_delete(indicator=instance)


class StandardIndicatorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The ministry's standard indicators, read by every signed-in user. They are kept on the
    set-up pages; a programme's indicator names the one it was copied from (`standard`)."""

    queryset = StandardIndicator.objects.prefetch_related(
        Prefetch("disaggregations", queryset=DisaggregationCategory.objects.only("id", "code"))
    )
    serializer_class = StandardIndicatorSerializer
    filter_backends = FILTER_BACKENDS
    filterset_fields = {"level": ["exact"], "measure": ["exact"], "frequency": ["exact"], "code": ["exact"]}
    ordering_fields = ["id", "code", "name_en", "name_ar", "level"]
    ordering = ["id"]
    # Any id reaches the view, so a malformed one is a JSON 404 rather than the site's HTML page.
    lookup_value_regex = "[^/]+"


class AlignmentViewSet(ServiceViewSet):
    """Indicators counted towards national targets or funder goals: aligned by ministry editors
    and the programme's editors (`Access.can_align`, the rule of the alignment page too); the
    donors see them."""

    base_queryset = Alignment.objects.all()
    serializer_class = AlignmentSerializer
    filterset_class = filterset_for(
        Alignment,
        {"indicator": ["exact"], "national_target": ["exact", "isnull"], "funder_goal": ["exact", "isnull"]},
        programme=django_filters.NumberFilter(field_name="indicator__programme"),
    )
    ordering_fields = ["id", "weight"]
    ordering = ["id"]

    def scope(self, queryset, access):
        return queryset.filter(access.alignment_filter())

    def may_write(self, access):
        return access.may_write_anything()

    def _may(self, access, indicator, national_target, funder_goal) -> bool:
        if indicator is None:
            return True
        return access.can_align(indicator.programme_id, funder_goal.donor_id if funder_goal is not None else None)

    def may_write_object(self, access, obj):
        return self._may(access, obj.indicator, obj.national_target, obj.funder_goal)

    def may_write_data(self, access, data, instance=None):
        def pick(name):
            return data[name] if name in data else getattr(instance, name, None)

        return self._may(access, pick("indicator"), pick("national_target"), pick("funder_goal"))

    def create_object(self, data):
        return services.alignment_create(**data)

    def update_object(self, instance, data):
        return services.alignment_update(alignment=instance, **data)

    def delete_object(self, instance):
        services.alignment_delete(alignment=instance)


class TargetViewSet(ProgrammeChildViewSet):
    programme_path = "indicator__programme"
    base_queryset = Target.objects.select_related("indicator")
    serializer_class = TargetSerializer
    filterset_class = filterset_for(
        Target,
        {
            "indicator": ["exact"],
            "municipality": ["exact", "isnull"],
            "period_start": ["exact", "gte", "lte"],
            "period_end": ["exact", "gte", "lte"],
        },
        programme=django_filters.NumberFilter(field_name="indicator__programme"),
    )
    ordering_fields = ["id", "period_start", "period_end"]
    ordering = ["id"]

    def create_object(self, data):
        return services.target_set(**data)

    def update_object(self, instance, data):
        return services.target_update(target=instance, **data)

    def delete_object(self, instance):
        services.target_delete(target=instance)


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=_("The version you edited (the ETag of the result); a stale one answers 412."),
)


def expected_version(request, data) -> int | None:
    if data.get("version") is not None:
        return data["version"]
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    header = header.removeprefix("W/").strip('"')
    try:
        return int(header)
    except ValueError as error:
        raise ValidationError({"If-Match": [_('Send the result\'s version, e.g. If-Match: "3".')]}) from error


BULK_REQUEST = PolymorphicProxySerializer(
    component_name="ResultCreateOrBulk",
    serializers=[ResultSerializer, ResultRowSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


RESULT_COLUMNS = (
    "id", "indicator_id", "municipality_id", "period_start", "period_end", "disaggregation_category",
    "disaggregation_option", "value", "numerator", "denominator", "status", "comment", "evidence_url",
    "version", "created_at", "updated_at",
)  # fmt: skip


def result_row(data: dict, *, indicator_id: int, municipality_id: int) -> services.ResultRow:
    """A validated result body as the services' row (one place for the single and bulk paths)."""
    return services.ResultRow(
        indicator_id=indicator_id,
        municipality_id=municipality_id,
        period_start=data["period_start"],
        period_end=data["period_end"],
        disaggregation=data.get("disaggregation") or {},
        value=data.get("value"),
        numerator=data.get("numerator"),
        denominator=data.get("denominator"),
        comment=data.get("comment", ""),
        evidence_url=data.get("evidence_url", ""),
        status=data.get("status"),
    )


class ResultViewSet(ValuesListMixin, ServiceViewSet):
    """Results, scoped as docs/design.md §7 says (a municipality member sees its own municipality's only).

    POST an object to create one result, or a JSON list of up to 10,000 to create all or none:
    errors come back as `[{"row": 0, "field": "period_start", "message": "…"}]`, rows counted from 0.
    A listed row equal to the result already stored in its cell is accepted and writes nothing, so
    a list can be sent again; a row that differs from a stored result is refused.
    """

    base_queryset = Result.objects.all()
    serializer_class = ResultSerializer
    pagination_class = KeysetPagination
    list_columns = RESULT_COLUMNS
    filterset_class = ResultFilter
    ordering_fields = ["id", "period_start", "period_end", "status", "updated_at"]
    ordering = ["id"]

    def scope(self, queryset, access):
        return queryset.filter(access.result_filter())

    def may_write(self, access):
        return access.may_write_anything()

    def may_write_object(self, access, obj):
        programme_id = obj.indicator.programme_id
        if self.action in ("approve", "return_", "reopen"):
            return access.can_approve_result(programme_id, obj.municipality_id)
        return access.can_enter_result(programme_id, obj.municipality_id)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action not in ("list",):
            queryset = queryset.select_related("indicator")
        return queryset

    def respond(self, result, code=status.HTTP_200_OK):
        return Response(self.get_serializer(result).data, status=code, headers={"ETag": f'"{result.version}"'})

    def retrieve(self, request, *args, **kwargs):
        return self.respond(self.get_object())

    # Create: one, or a list -----------------------------------------------------------------

    @extend_schema(
        request=BULK_REQUEST,
        responses={
            201: PolymorphicProxySerializer(
                component_name="ResultCreated",
                serializers=[ResultSerializer, ResultSerializer(many=True)],
                resource_type_field_name=None,
                many=False,
            ),
            200: OpenApiResponse(
                ResultSerializer(many=True), description=_("A list whose rows were all stored already.")
            ),
            413: OpenApiResponse(description=_("More than 10,000 rows.")),
        },
    )
    def create(self, request, *args, **kwargs):
        if isinstance(request.data, list):
            return self.bulk_create(request.data)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.check_create(data["indicator"].programme_id, data["municipality"].pk, data.get("status"))
        result = services.result_create_from_row(
            row=result_row(data, indicator_id=data["indicator"].pk, municipality_id=data["municipality"].pk),
            user=request.user,
            status=data.get("status") or Result.Status.DRAFT,
        )
        return self.respond(result, status.HTTP_201_CREATED)

    def check_create(self, programme_id, municipality_id, status_=None, row=None) -> str | None:
        """None when allowed, else why not (raised as 403 for a single create)."""
        message = None
        if not self.access.can_enter_result(programme_id, municipality_id):
            message = _("You may not enter results for this municipality in this programme.")
        elif status_ == Result.Status.APPROVED:
            refusal = services.approved_creation_refusal(self.request.user)
            message = refusal.messages[0] if refusal is not None else None
        if message and row is None:
            raise PermissionDenied(message)
        return message

    def bulk_create(self, rows):
        if len(rows) > services.MAX_BULK_RESULTS:
            raise PayloadTooLarge(
                _("At most %(limit)s results can be sent at once; this list has %(count)s.")
                % {"limit": services.MAX_BULK_RESULTS, "count": len(rows)}
            )
        errors, parsed = [], []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.append({"row": index, "field": "non_field_errors", "message": str(_("Each row is an object."))})
                continue
            serializer = ResultRowSerializer(data=row)
            if not serializer.is_valid():
                for field_name, messages in serializer.errors.items():
                    for message in messages if isinstance(messages, list) else [messages]:
                        errors.append({"row": index, "field": field_name, "message": str(message)})
                continue
            parsed.append((index, serializer.validated_data))
        if not errors and not parsed:
            errors.append({"row": 0, "field": "non_field_errors", "message": str(_("Send at least one row."))})
        if errors:
            return Response(sorted(errors, key=lambda e: e["row"]), status=status.HTTP_400_BAD_REQUEST)
        visible = dict(
            Indicator.objects.filter(pk__in={data["indicator"] for _index, data in parsed})
            .filter(self.access.programme_filter("programme"))
            .values_list("pk", "programme_id")
        )
        denied = []
        for index, data in parsed:
            if data["indicator"] not in visible:
                errors.append({"row": index, "field": "indicator", "message": str(_("Unknown indicator."))})
                continue
            message = self.check_create(visible[data["indicator"]], data["municipality"], data.get("status"), row=index)
            if message:
                denied.append({"row": index, "field": "municipality", "message": str(message)})
        if errors:
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        if denied:
            return Response(denied, status=status.HTTP_403_FORBIDDEN)
        outcome = services.results_upsert(
            rows=[
                result_row(data, indicator_id=data["indicator"], municipality_id=data["municipality"])
                for _index, data in parsed
            ],
            user=self.request.user,
        )
        created = outcome.count(services.Written.CREATED)
        return Response(
            ResultSerializer(outcome.results, many=True).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    # Update and delete ---------------------------------------------------------------------

    @extend_schema(parameters=[IF_MATCH], responses={200: ResultSerializer, 409: None, 412: None})
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        result = self.get_object()
        serializer = self.get_serializer(result, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = expected_version(request, data)
        data.pop("version", None)
        result = services.result_update(result=result, user=request.user, expected_version=version, **data)
        return self.respond(result)

    @extend_schema(parameters=[IF_MATCH], responses={200: ResultSerializer, 409: None, 412: None})
    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def delete_object(self, instance):
        services.result_delete(result=instance, user=self.request.user)

    # Workflow ------------------------------------------------------------------------------

    def _transition(self, request, service, **extra):
        result = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            result = service(
                result=result, user=request.user, expected_version=expected_version(request, data), **extra
            )
        return self.respond(result)

    @extend_schema(request=TransitionSerializer, parameters=[IF_MATCH], responses={200: ResultSerializer, 412: None})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send a draft (or returned) result for approval."""
        return self._transition(request, services.result_submit)

    @extend_schema(request=TransitionSerializer, parameters=[IF_MATCH], responses={200: ResultSerializer, 412: None})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Take a submitted result back to draft, to change it before submitting it again."""
        return self._transition(request, services.result_withdraw)

    @extend_schema(request=TransitionSerializer, parameters=[IF_MATCH], responses={200: ResultSerializer, 412: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a submitted result: from now on it counts, and it is locked."""
        return self._transition(request, services.result_approve)

    @extend_schema(request=TransitionSerializer, parameters=[IF_MATCH], responses={200: ResultSerializer, 412: None})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """Return a submitted result to its editors, with a `comment` saying what to change."""
        comment = request.data.get("comment", "") if isinstance(request.data, dict) else ""
        if not isinstance(comment, str):
            raise ValidationError({"comment": [_("Not a valid string.")]})
        return self._transition(request, services.result_return, comment=comment)

    @extend_schema(request=TransitionSerializer, parameters=[IF_MATCH], responses={200: ResultSerializer, 412: None})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Unlock an approved result (it becomes a draft and stops counting)."""
        return self._transition(request, services.result_reopen)
