"""Writes about organisations, memberships and invitations."""

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import ServiceError
from common.services import apply_changes, refuse_moves, validated_save

from .models import Invitation, Membership, Organisation
from .signals import invitation_sent

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


def _refuse_losing_the_last_admin(membership: Membership, *, field: str | None) -> None:
    """An organisation that has administrators keeps one: otherwise no one but a superuser could
    invite, promote or remove its people again, and an administrator who demotes or removes
    themselves would lock the organisation out. The organisation's row is locked, so two
    administrators demoting each other at once cannot both succeed."""
    Organisation.objects.select_for_update().filter(pk=membership.organisation_id).first()
    stored = Membership.objects.filter(pk=membership.pk).values_list("role", flat=True).first()
    if stored != Membership.Role.ADMIN:
        return
    others = Membership.objects.filter(organisation_id=membership.organisation_id, role=Membership.Role.ADMIN)
    if not others.exclude(pk=membership.pk).exists():
        message = _("An organisation keeps at least one administrator: make another member administrator first.")
        raise ValidationError({field: message} if field else message)


@transaction.atomic
def membership_update(*, membership: Membership, **changes) -> Membership:
    """Change a member's role. A membership never moves to another user or organisation (what
    one person could do in one organisation stays in its history): a new one is made instead."""
    moved = _("Create a new membership instead of moving this one.")
    refuse_moves(membership, changes, {"user": moved, "organisation": moved})
    if changes.get("role", Membership.Role.ADMIN) != Membership.Role.ADMIN:
        _refuse_losing_the_last_admin(membership, field="role")
    if apply_changes(membership, changes, allowed=("role",)):
        validated_save(membership)
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    _refuse_losing_the_last_admin(membership, field=None)
    membership.delete()


# Invitations -----------------------------------------------------------------------------------

# How long an invitation link works after it was (last) sent; sending it again restarts the clock
# and retires the older link.
INVITATION_VALID_FOR = datetime.timedelta(days=7)
_INVITATION_SALT = "partners.invitation"


def _stamp(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def invitation_token(invitation: Invitation) -> str:
    """The secret of the invitation's link: its id and the moment it was last sent, signed with
    the site's key. Nothing secret is stored, and the same invitation sent at the same moment
    always gives the same token, so the e-mail task can make it again on a retry."""
    signer = signing.Signer(salt=_INVITATION_SALT, sep=".")
    return signer.sign_object({"i": invitation.pk, "s": _stamp(invitation.sent_at)})


def invitation_is_open(invitation: Invitation, *, now: datetime.datetime | None = None) -> bool:
    """Not accepted, not cancelled, not expired, and for an account that may still sign in."""
    now = now or timezone.now()
    return (
        invitation.accepted_at is None
        and invitation.cancelled_at is None
        and now < invitation.sent_at + INVITATION_VALID_FOR
        and invitation.user.is_active
    )


def invitation_expires_at(invitation: Invitation) -> datetime.datetime:
    return invitation.sent_at + INVITATION_VALID_FOR


def invitation_for_token(token: str) -> Invitation | None:
    """The open invitation whose link carries `token`; None for a forged, retired (sent again
    since), used, cancelled or expired link, all alike."""
    try:
        data = signing.Signer(salt=_INVITATION_SALT, sep=".").unsign_object(token)
        pk, stamp = int(data["i"]), int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    invitation = Invitation.objects.select_related("organisation", "user").filter(pk=pk).first()
    if invitation is None or _stamp(invitation.sent_at) != stamp or not invitation_is_open(invitation):
        return None
    return invitation


def _account_for(email: str) -> AbstractBaseUser:
    """The account of this address, made (unable to sign in until a password is set) if none has it."""
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    if user is not None:
        return user
    username, n = email, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{email}-{n}"
    user = User(username=username, email=email)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # an invitation to the same new address, made at the same moment
        return User.objects.filter(email__iexact=email).order_by("pk").first() or User.objects.get(username=username)
    return user


@transaction.atomic
def invitation_create(
    *,
    organisation: Organisation,
    email: str,
    role: str,
    invited_by: AbstractBaseUser | None,
    language: str = settings.LANGUAGE_CODE,
) -> Invitation:
    """Invite whoever reads `email` to join `organisation` as `role`. Known and new addresses are
    answered alike (no account is revealed): both get an invitation to accept, e-mailed after
    commit by the notifications app. Refused: a malformed address, an unknown role, an address
    already invited and waiting, and a person already a member (whom the inviter sees in the
    member list anyway)."""
    email = (email or "").strip().lower()
    errors: dict[str, Any] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter an e-mail address such as name@example.org.")
    else:
        if len(email) > 150:
            errors["email"] = _("Enter an e-mail address of at most 150 characters.")
    if role not in Membership.Role.values:
        errors["role"] = _("Choose viewer, editor, approver or administrator.")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    if errors:
        raise ValidationError(errors)
    if Invitation.objects.filter(
        organisation=organisation, email=email, accepted_at__isnull=True, cancelled_at__isnull=True
    ).exists():
        raise ValidationError(
            {"email": _("An invitation to this address is already waiting: send it again from the list instead.")}
        )
    user = _account_for(email)
    if Membership.objects.filter(user=user, organisation=organisation).exists():
        raise ValidationError({"email": _("This person already belongs to this organisation.")})
    invitation = validated_save(
        Invitation(
            organisation=organisation,
            email=email,
            role=role,
            user=user,
            invited_by=invited_by,
            language=language,
            sent_at=timezone.now(),
        )
    )
    invitation_sent.send(sender=Invitation, invitation=invitation)
    return invitation


def _refuse_closed(invitation: Invitation) -> None:
    if invitation.accepted_at is not None or invitation.cancelled_at is not None:
        raise ValidationError(_("This invitation was accepted or cancelled already."))


@transaction.atomic
def invitation_resend(*, invitation: Invitation) -> Invitation:
    """Send the invitation again with a new link (the old one stops working) and a new week."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _refuse_closed(invitation)
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at"])
    invitation_sent.send(sender=Invitation, invitation=invitation)
    return invitation


@transaction.atomic
def invitation_cancel(*, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _refuse_closed(invitation)
    invitation.cancelled_at = timezone.now()
    invitation.save(update_fields=["cancelled_at"])
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, password: str | None = None) -> Membership:
    """Follow the link: the account joins the organisation with the invited role (a membership it
    already has is kept as it is), and an account without a password gets `password`, which
    Django's password validators check. The invitation works once: its row is locked and
    checked again, so two clicks at once make one membership."""
    invitation = Invitation.objects.select_for_update().select_related("user").get(pk=invitation.pk)
    if not invitation_is_open(invitation):
        raise ValidationError(_("This invitation link does not work any more."))
    user = invitation.user
    if not user.has_usable_password():
        if not password:
            raise ValidationError({"password": _("Choose a password.")})
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        user.set_password(password)
        user.save(update_fields=["password"])
    membership = Membership.objects.filter(user=user, organisation_id=invitation.organisation_id).first()
    if membership is None:
        membership = Membership(user=user, organisation_id=invitation.organisation_id, role=invitation.role)
        membership._history_user = user  # the history says who joined, not "the system"
        validated_save(membership)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership
