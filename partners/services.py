"""Writes about organisations and memberships."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from common.services import apply_changes, refuse_moves, validated_save

from .models import Membership, Organisation

ORGANISATION_FIELDS = (
    "kind",
    "name_en",
    "name_ar",
    "acronym",
    "country",
    "region_en",
    "region_ar",
    "population",
    "iati_ref",
)


@transaction.atomic
def organisation_create(
    *,
    kind: str,
    name_en: str,
    name_ar: str = "",
    country: str,
    acronym: str = "",
    region_en: str = "",
    region_ar: str = "",
    population: int | None = None,
    iati_ref: str = "",
) -> Organisation:
    organisation = Organisation(
        kind=kind,
        name_en=name_en,
        name_ar=name_ar,
        country=(country or "").upper(),
        acronym=acronym,
        region_en=region_en,
        region_ar=region_ar,
        population=population,
        iati_ref=iati_ref,
    )
    return validated_save(organisation)


@transaction.atomic
def organisation_update(*, organisation: Organisation, **changes) -> Organisation:
    if changes.get("country"):
        changes["country"] = changes["country"].upper()
    if apply_changes(organisation, changes, allowed=ORGANISATION_FIELDS):
        validated_save(organisation)
    return organisation


@transaction.atomic
def membership_create(*, user: AbstractBaseUser, organisation: Organisation, role: str) -> Membership:
    return validated_save(Membership(user=user, organisation=organisation, role=role))


@transaction.atomic
def membership_update(*, membership: Membership, **changes) -> Membership:
    """Change a member's role. A membership never moves to another user or organisation (what
    one person could do in one organisation stays in its history): a new one is made instead."""
    moved = _("Create a new membership instead of moving this one.")
    refuse_moves(membership, changes, {"user": moved, "organisation": moved})
    if apply_changes(membership, changes, allowed=("role",)):
        validated_save(membership)
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    membership.delete()
