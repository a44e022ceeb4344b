"""Organisations taking part in twinning programmes, and who belongs to them."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from common.models import CheckedInputModel

country_code_validator = RegexValidator(
    r"^[A-Z]{2}$", _("Use a two-letter ISO 3166-1 country code in capitals, for example LY or US.")
)


class Organisation(CheckedInputModel):
    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        DONOR = "donor", _("Donor")
        MINISTRY = "ministry", _("Ministry or council")
        IMPLEMENTER = "implementer", _("Implementer")
        CSO = "cso", _("Civil-society organisation")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, db_index=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    required_translations = ("name",)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    country = models.CharField(
        _("country"), max_length=2, validators=[country_code_validator], help_text=_("ISO 3166-1 alpha-2")
    )
    region = models.CharField(_("region"), max_length=200, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    iati_ref = models.CharField(
        _("IATI organisation identifier"), max_length=100, blank=True, help_text=_("For example US-GOV-1")
    )
    # Where a municipality is: the aid registry matches donors' locations to it by place code,
    # name or point (docs/registry.md) and draws it on the map.
    pcode = models.CharField(
        _("place code"), max_length=20, blank=True, help_text=_("The municipality's P-code, for example LY010304")
    )
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(population__isnull=True) | Q(population__gte=0),
                name="organisation_population_non_negative",
                violation_error_message=_("Population cannot be negative."),
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="organisation_coordinates_valid",
                violation_error_message=_(
                    "Give both latitude (-90 to 90) and longitude (-180 to 180) in decimal degrees, or neither."
                ),
            ),
            # One per language, and only over names given in it: many organisations may have
            # no English name (or no Arabic one), which is not a clash.
            *(
                models.UniqueConstraint(
                    fields=["kind", f"name_{language}", "country"],
                    condition=~Q(**{f"name_{language}": ""}),
                    name=f"organisation_unique_kind_name_{language}_country",
                    violation_error_message=_("An organisation of this kind with this name already exists."),
                )
                for language in ("en", "ar")
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        VIEWER = "viewer", _("Viewer")
        EDITOR = "editor", _("Editor")
        APPROVER = "approver", _("Approver")
        ADMIN = "admin", _("Administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organisation", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"],
                name="membership_unique_user_organisation",
                violation_error_message=_("This user already belongs to this organisation."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} ({self.get_role_display()})"


class Invitation(models.Model):
    """A person asked by e-mail to join an organisation with a role. Every address gets one, known
    or not, so the people page cannot tell which addresses have accounts; the account (made with an
    unusable password when the address was new) joins when the link is followed. The link is
    signed, names `sent_at`, and works once, for `partners.services.INVITATION_VALID_FOR` after
    the last sending."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("organisation")
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=20, choices=Membership.Role.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("account")
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    # The inviter's page language: the e-mail's language when the invitee never chose one.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"))
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email"],
                condition=Q(accepted_at__isnull=True, cancelled_at__isnull=True),
                name="invitation_one_open_per_address",
                violation_error_message=_("An invitation to this address is already waiting: send it again instead."),
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(cancelled_at__isnull=True),
                name="invitation_accepted_or_cancelled",
                violation_error_message=_("An invitation is either accepted or cancelled, not both."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} · {self.organisation} ({self.get_role_display()})"
