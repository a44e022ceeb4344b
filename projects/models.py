"""Programmes and the work inside them: twinnings, themes, workstreams, activities."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from common.models import CheckedInputModel
from common.text import code_validator
from partners.models import Organisation

currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code, for example USD."))


class Programme(CheckedInputModel):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        SUSPENDED = "suspended", _("Suspended")

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=250, blank=True)
    required_translations = ("name",)
    description = models.TextField(_("description"), blank=True)
    donors = models.ManyToManyField(
        Organisation, related_name="funded_programmes", verbose_name=_("donors"), blank=True
    )
    implementer = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="implemented_programmes",
        verbose_name=_("implementer"),
        null=True,
        blank=True,
    )
    counterpart = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="counterpart_programmes",
        verbose_name=_("counterpart ministry"),
        null=True,
        blank=True,
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    budget = models.DecimalField(_("budget"), max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD", validators=[currency_validator])
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    iati_identifier = models.CharField(_("IATI activity identifier"), max_length=150, blank=True)
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("fiscal year start month"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("1 for January; 10 for a US fiscal year starting in October."),
    )
    reporting_due_days = models.PositiveSmallIntegerField(
        _("reporting due (days)"),
        default=30,
        validators=[MaxValueValidator(366)],
        help_text=_("Results of a period are due this many days after it ends."),
    )

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="programme_end_after_start",
                violation_error_message=_("The end date must not be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="programme_fiscal_month_valid",
                violation_error_message=_("The fiscal year start month must be between 1 and 12."),
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0),
                name="programme_budget_non_negative",
                violation_error_message=_("The budget cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(reporting_due_days__lte=366),
                name="programme_reporting_due_days_valid",
                violation_error_message=_("Results can be due at most 366 days after a period ends."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Twinning(CheckedInputModel):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="twinnings", verbose_name=_("programme")
    )
    name = models.CharField(_("name"), max_length=250, blank=True)
    required_translations = ("name",)
    municipalities = models.ManyToManyField(Organisation, related_name="twinnings", verbose_name=_("municipalities"))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED)

    class Meta:
        verbose_name = _("twinning")
        verbose_name_plural = _("twinnings")
        ordering = ["programme", "name"]

    def __str__(self) -> str:
        return self.name


class Theme(CheckedInputModel):
    """An area of municipal work, shared by all programmes so their work can be compared."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=250, blank=True)
    required_translations = ("name",)
    description = models.TextField(_("description"), blank=True)
    dac_sector = models.CharField(
        _("DAC sector code"), max_length=5, blank=True, help_text=_("OECD DAC 5-digit purpose code, e.g. 15112")
    )

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Workstream(CheckedInputModel):
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="workstreams", verbose_name=_("programme")
    )
    twinning = models.ForeignKey(
        Twinning,
        on_delete=models.SET_NULL,
        related_name="workstreams",
        verbose_name=_("twinning"),
        null=True,
        blank=True,
    )
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="workstreams", verbose_name=_("theme"))
    name = models.CharField(_("name"), max_length=250, blank=True)
    required_translations = ("name",)
    description = models.TextField(_("description"), blank=True)
    lead = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        related_name="led_workstreams",
        verbose_name=_("lead organisation"),
        null=True,
        blank=True,
    )
    municipalities = models.ManyToManyField(
        Organisation, related_name="workstreams", verbose_name=_("municipalities"), blank=True
    )

    class Meta:
        verbose_name = _("workstream")
        verbose_name_plural = _("workstreams")
        ordering = ["programme", "name"]

    def __str__(self) -> str:
        return self.name


class Activity(CheckedInputModel):
    class Kind(models.TextChoices):
        CONFERENCE = "conference", _("Conference")
        STUDY_VISIT = "study_visit", _("Study visit")
        WORKSHOP = "workshop", _("Workshop")
        TRAINING = "training", _("Training")
        TECHNICAL_ASSISTANCE = "technical_assistance", _("Technical assistance")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    workstream = models.ForeignKey(
        Workstream, on_delete=models.CASCADE, related_name="activities", verbose_name=_("workstream")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(_("title"), max_length=300, blank=True)
    required_translations = ("title",)
    description = models.TextField(_("description"), blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    municipality = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("municipality"),
        null=True,
        blank=True,
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    participants_female = models.PositiveIntegerField(_("female participants"), default=0)
    participants_male = models.PositiveIntegerField(_("male participants"), default=0)
    participants_youth = models.PositiveIntegerField(_("young participants"), default=0)
    participants_with_disability = models.PositiveIntegerField(_("participants with a disability"), default=0)
    lessons_learned = models.TextField(_("lessons learned"), blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-start_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="activity_end_after_start",
                violation_error_message=_("The end date must not be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(
                    participants_female__gte=0,
                    participants_male__gte=0,
                    participants_youth__gte=0,
                    participants_with_disability__gte=0,
                ),
                name="activity_participants_non_negative",
                violation_error_message=_("Participant counts cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.title
