import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.api.views import filterset_for
from partners import services
from partners.api.serializers import MembershipSerializer, OrganisationSerializer
from partners.models import Membership, Organisation
from projects.api.base import ReferenceDataViewSet, ServiceViewSet


class OrganisationViewSet(ReferenceDataViewSet):
    """Organisations: visible to every signed-in user; kept by the ministry (editors) and superusers."""

    base_queryset = Organisation.objects.all()
    serializer_class = OrganisationSerializer
    filterset_fields = ["kind", "country"]
    ordering_fields = ["id", "kind", "name_en", "name_ar", "country", "population"]
    ordering = ["id"]

    def create_object(self, data):
        return services.organisation_create(**data)

    def update_object(self, instance, data):
        return services.organisation_update(organisation=instance, user=self.request.user, **data)


def filter_user(queryset, name, value):
    """`?user=` takes what the list shows (the username) or the user's id."""
    condition = Q(user__username=value)
    if value.isdigit() and len(value) < 19:
        condition |= Q(user_id=int(value))
    return queryset.filter(condition)


class MembershipViewSet(ServiceViewSet):
    """Who belongs to which organisation with which role. Managed by superusers and by the
    organisation's `admin` members; a user also sees their own memberships."""

    base_queryset = Membership.objects.select_related("user", "organisation")
    serializer_class = MembershipSerializer
    filterset_class = filterset_for(
        Membership,
        {"organisation": ["exact"], "role": ["exact"]},
        user=django_filters.CharFilter(method=filter_user, help_text=_("A username (or a user id).")),
    )
    ordering_fields = ["id", "role", "organisation"]
    ordering = ["id"]

    def scope(self, queryset, access):
        return queryset.filter(access.membership_filter())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["member_candidates"] = get_user_model().objects.filter(self.access.member_candidate_filter())
        return context

    def may_write(self, access):
        return access.is_superuser or bool(access.organisation_ids(role=Membership.Role.ADMIN))

    def may_write_object(self, access, obj):
        return access.can_manage_memberships(obj.organisation_id)

    def may_write_data(self, access, data, instance=None):
        organisation = data.get("organisation")
        return organisation is None or access.can_manage_memberships(organisation.pk)

    def create_object(self, data):
        return services.membership_create(user=data["user"], organisation=data["organisation"], role=data["role"])

    def update_object(self, instance, data):
        return services.membership_update(membership=instance, **data)

    def delete_object(self, instance):
        services.membership_delete(membership=instance)
