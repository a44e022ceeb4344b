import django_filters
from django.db.models import Prefetch

from common.api.views import filterset_for
from partners.models import Membership, Organisation
from projects.api.base import ReferenceDataViewSet, ServiceViewSet

from .. import services
from ..models import Activity, Programme, Theme, Twinning, Workstream
from .serializers import (
    ActivitySerializer,
    ProgrammeSerializer,
    ThemeSerializer,
    TwinningSerializer,
    WorkstreamSerializer,
)

ids_only = Organisation.objects.only("id")


class ProgrammeViewSet(ServiceViewSet):
    """Programmes the user sees (docs/design.md §7). Implementer editors create and edit the programmes they
    implement; ministry editors may create programmes."""

    base_queryset = Programme.objects.prefetch_related(Prefetch("donors", queryset=ids_only))
    serializer_class = ProgrammeSerializer
    filterset_class = filterset_for(
        Programme,
        {
            "donors": ["exact"],
            "implementer": ["exact"],
            "counterpart": ["exact"],
            "status": ["exact"],
            "code": ["exact"],
            "start_date": ["exact", "gte", "lte"],
            "end_date": ["exact", "gte", "lte"],
        },
        donor=django_filters.NumberFilter(field_name="donors", distinct=True),
    )
    ordering_fields = ["id", "code", "name_en", "name_ar", "start_date", "end_date", "status"]
    ordering = ["code"]

    def scope(self, queryset, access):
        return access.programmes(queryset)

    def may_write(self, access):
        if self.action == "create":
            return access.can_create_programmes()
        return access.edits_some_programme

    def may_write_object(self, access, obj):
        return access.can_edit_programme_id(obj.pk)

    def may_write_data(self, access, data, instance=None):
        implementer = data.get("implementer", instance.implementer if instance else None)
        if access.is_superuser or (instance is None and access.can_edit_reference_data()):
            return True
        own = access.organisation_ids(Organisation.Kind.IMPLEMENTER, Membership.Role.EDITOR)
        return implementer is not None and implementer.pk in own

    def create_object(self, data):
        return services.programme_create(**data)

    def update_object(self, instance, data):
        return services.programme_update(programme=instance, **data)


class ProgrammeChildViewSet(ServiceViewSet):
    """Objects that hang off a programme: seen with it, edited by those who edit it."""

    programme_path = "programme"

    def scope(self, queryset, access):
        return queryset.filter(access.programme_filter(self.programme_path))

    def may_write(self, access):
        return access.edits_some_programme

    def programme_id_of(self, obj) -> int:
        for part in self.programme_path.split("__"):
            obj = getattr(obj, part)
        return obj.pk

    def may_write_object(self, access, obj):
        return access.can_edit_programme_id(self.programme_id_of(obj))

    def may_write_data(self, access, data, instance=None):
        parent_name = self.programme_path.split("__")[0]
        parent = data.get(parent_name)
        if parent is None:
            return True
        obj = parent
        for part in self.programme_path.split("__")[1:]:
            obj = getattr(obj, part)
        return access.can_edit_programme_id(obj.pk)


class TwinningViewSet(ProgrammeChildViewSet):
    base_queryset = Twinning.objects.prefetch_related(Prefetch("municipalities", queryset=ids_only))
    serializer_class = TwinningSerializer
    filterset_class = filterset_for(
        Twinning,
        {"programme": ["exact"], "municipalities": ["exact"], "status": ["exact"]},
        municipality=django_filters.NumberFilter(field_name="municipalities", distinct=True),
    )
    ordering_fields = ["id", "name_en", "name_ar", "signed_on", "status"]
    ordering = ["id"]

    def create_object(self, data):
        return services.twinning_create(**data)

    def update_object(self, instance, data):
        return services.twinning_update(twinning=instance, **data)

    def delete_object(self, instance):
        services.twinning_delete(twinning=instance)


class ThemeViewSet(ReferenceDataViewSet):
    """Areas of municipal work, shared by all programmes; kept by the ministry."""

    base_queryset = Theme.objects.all()
    serializer_class = ThemeSerializer
    filterset_fields = ["code", "dac_sector"]
    ordering_fields = ["id", "code", "name_en", "name_ar"]
    ordering = ["id"]

    def create_object(self, data):
        return services.theme_create(**data)

    def update_object(self, instance, data):
        return services.theme_update(theme=instance, **data)


class WorkstreamViewSet(ProgrammeChildViewSet):
    base_queryset = Workstream.objects.prefetch_related(Prefetch("municipalities", queryset=ids_only))
    serializer_class = WorkstreamSerializer
    filterset_class = filterset_for(
        Workstream,
        {
            "programme": ["exact"],
            "twinning": ["exact"],
            "theme": ["exact"],
            "lead": ["exact"],
            "municipalities": ["exact"],
        },
        municipality=django_filters.NumberFilter(field_name="municipalities", distinct=True),
    )
    ordering_fields = ["id", "name_en", "name_ar"]
    ordering = ["id"]

    def create_object(self, data):
        return services.workstream_create(**data)

    def update_object(self, instance, data):
        return services.workstream_update(workstream=instance, **data)

    def delete_object(self, instance):
        services.workstream_delete(workstream=instance)


class ActivityViewSet(ProgrammeChildViewSet):
    programme_path = "workstream__programme"
    base_queryset = Activity.objects.all()
    serializer_class = ActivitySerializer
    filterset_class = filterset_for(
        Activity,
        {
            "workstream": ["exact"],
            "municipality": ["exact"],
            "kind": ["exact"],
            "status": ["exact"],
            "start_date": ["exact", "gte", "lte"],
            "end_date": ["exact", "gte", "lte"],
        },
        programme=django_filters.NumberFilter(field_name="workstream__programme"),
    )
    ordering_fields = ["id", "start_date", "end_date", "title_en", "title_ar"]
    ordering = ["id"]

    def may_write_object(self, access, obj):
        return access.can_edit_activity(obj.workstream.programme_id, obj.municipality_id)

    def create_object(self, data):
        return services.activity_create(**data)

    def update_object(self, instance, data):
        return services.activity_update(activity=instance, user=self.request.user, **data)

    def delete_object(self, instance):
        services.activity_delete(activity=instance)
