"""Reads about notifications and about who is to be notified, shared by the services, the API
and the pages."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from indicators.models import Indicator, Result
from partners.models import Membership, Organisation
from projects.access import ROLE_RANK, attach_access

from .models import Notification, NotificationPreference

User = get_user_model()

ROLES_FROM = {
    role: [other for other, rank in ROLE_RANK.items() if rank >= minimum] for role, minimum in ROLE_RANK.items()
}


def user_notifications(user) -> QuerySet[Notification]:
    """A user's own notifications, newest first."""
    return Notification.objects.filter(recipient_id=user.pk).order_by("-created_at", "-id")


def unread_count(user) -> int:
    """One query (a partial index holds the unread rows)."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def preferences_for(user_ids: Iterable[int]) -> dict[int, NotificationPreference]:
    """Each user's preference, the defaults (unsaved) where they have none (one query)."""
    user_ids = set(user_ids)
    found = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=user_ids)}
    return {pk: found.get(pk) or NotificationPreference(user_id=pk) for pk in user_ids}


def preference_of(user) -> NotificationPreference:
    return preferences_for([user.pk])[user.pk]


def _members(organisations: Q, role: str) -> dict[int, list[tuple[int, str, str]]]:
    """Active users with a membership of at least `role` in the organisations matched by
    `organisations`, each with all their membership rows (to build their access exactly). Two
    queries."""
    users = set(
        Membership.objects.filter(organisations, role__in=ROLES_FROM[role], user__is_active=True).values_list(
            "user_id", flat=True
        )
    )
    rows: dict[int, list[tuple[int, str, str]]] = {pk: [] for pk in users}
    for user_id, organisation_id, kind, member_role in Membership.objects.filter(user_id__in=users).values_list(
        "user_id", "organisation_id", "organisation__kind", "role"
    ):
        rows[user_id].append((organisation_id, kind, member_role))
    return rows


def approvers_of(results: Iterable[Result], indicators: dict[int, Indicator]) -> dict[int, set[int]]:
    """Result id → the users who may approve or return it (`projects.access`). The candidates are
    the approvers (or admins) of the ministry, of the programmes' implementers and of the
    results' municipalities, each then asked `Access.can_approve_result`. Superusers without such
    a membership are not counted: they may approve anything, but the queue is not theirs to
    watch. `indicators` holds the results' indicators with their programmes."""
    results = list(results)
    implementers = {indicators[r.indicator_id].programme.implementer_id for r in results} - {None}
    organisations = Q(organisation__kind=Organisation.Kind.MINISTRY) | Q(
        organisation_id__in=implementers | {r.municipality_id for r in results}
    )
    accesses = [
        (user_id, attach_access(User(pk=user_id, is_superuser=False), grants))
        for user_id, grants in _members(organisations, Membership.Role.APPROVER).items()
    ]
    return {
        result.pk: {
            user_id
            for user_id, access in accesses
            if access.can_approve_result(indicators[result.indicator_id].programme_id, result.municipality_id)
        }
        for result in results
    }


REVIEWS = {  # (status before, status after) of the moves an approver makes
    (Result.Status.SUBMITTED, Result.Status.APPROVED),
    (Result.Status.SUBMITTED, Result.Status.RETURNED),
    (Result.Status.APPROVED, Result.Status.DRAFT),
}


def hands_on_each(results: Iterable[Result]) -> dict[int, set[int]]:
    """Result id → the users who entered, changed or submitted it (docs/design.md §7: they do not
    approve or return it): every author of its history except where the record is a review (an
    approval, a return, a reopening). One query."""
    results = list(results)
    found = {r.pk: {r.created_by_id, r.submitted_by_id} - {None} for r in results}
    previous: dict[int, str] = {}
    for result_id, status, user_id in (
        Result.history.filter(id__in=list(found))
        .order_by("id", "history_date", "history_id")
        .values_list("id", "status", "history_user_id")
    ):
        if user_id is not None and (previous.get(result_id), status) not in REVIEWS:
            found[result_id].add(user_id)
        previous[result_id] = status
    return found


def editors_by_organisation(organisation_ids: Iterable[int]) -> dict[int, set[int]]:
    """Organisation id → its active members who are at least editors (one query)."""
    found: dict[int, set[int]] = {}
    for organisation_id, user_id in Membership.objects.filter(
        organisation_id__in=set(organisation_ids), role__in=ROLES_FROM[Membership.Role.EDITOR], user__is_active=True
    ).values_list("organisation_id", "user_id"):
        found.setdefault(organisation_id, set()).add(user_id)
    return found


def reporters(
    *, has_workstream: bool, municipality_id: int, implementer_id: int | None, editors: dict[int, set[int]]
) -> set[int]:
    """Who is reminded to report a cell: the editors of the municipality when the indicator
    belongs to a workstream (the municipality's own work); the editors of the implementer when
    it measures the programme as a whole, or when the municipality has no editor."""
    found = set(editors.get(municipality_id, ())) if has_workstream else set()
    if not found and implementer_id is not None:
        found = set(editors.get(implementer_id, ()))
    return found
