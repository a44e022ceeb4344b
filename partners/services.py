"""Writes about organisations and memberships."""

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from common.errors import ServiceError
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
    "pcode",
    "latitude",
    "longitude",
)


@transaction.atomic
def organisation_create(
    *,
    kind: str,
    name_en: str = "",
    name_ar: str = "",
    country: str,
    acronym: str = "",
    region_en: str = "",
    region_ar: str = "",
    population: int | None = None,
    iati_ref: str = "",
    pcode: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
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
        pcode=(pcode or "").strip().upper(),
        latitude=latitude,
        longitude=longitude,
    )
    return validated_save(organisation)


class OrganisationKindRefused(ValidationError, ServiceError):
    """Only superusers change what kind an organisation is (docs/design.md §7): 403 in the API,
    a message on the field in the admin."""

    http_status = 403

    def as_data(self) -> dict[str, Any]:
        return {"detail": " ".join(str(message) for message in self.messages)}


@transaction.atomic
def organisation_update(*, organisation: Organisation, user: AbstractBaseUser | None = None, **changes) -> Organisation:
    """Change an organisation. Its `kind` decides what its members see (a ministry's see
    everything), so only superusers change it. The API and the admin pass the acting user; None
    is the system (the demo seed, imports)."""
    if "kind" in changes and changes["kind"] != organisation.kind and not (user is None or user.is_superuser):
        raise OrganisationKindRefused(
            {"kind": _("Only superusers change an organisation's kind: it decides what its members see.")}
        )
    if changes.get("country"):
        changes["country"] = changes["country"].upper()
    if changes.get("pcode"):
        changes["pcode"] = changes["pcode"].strip().upper()
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
