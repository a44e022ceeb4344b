"""The aid-coordination registry (docs/registry.md): every piece of donor-funded work the
ministry knows of, from IATI files and from the programmes tracked here, where it happens, and the
pairs that may be the same work reported twice, each confirmed or dismissed by a person."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.models import CheckedInputModel
from partners.models import Organisation
from projects.models import Programme, Theme

dac_code_validator = RegexValidator(
    r"^(\d{3}|\d{5})\Z", _("Use a DAC sector code: five digits (15112) or a three-digit category (151).")
)


class IatiImport(models.Model):
    """One IATI file read into the registry: what it changed and what it refused."""

    class Status(models.TextChoices):
        IMPORTED = "imported", _("Imported")
        PARTIAL = "partial", _("Imported with errors")
        FAILED = "failed", _("Nothing imported")

    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    file_size = models.PositiveBigIntegerField(_("size in bytes"))
    iati_version = models.CharField(_("IATI version"), max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    activities_created = models.PositiveIntegerField(_("activities created"), default=0)
    activities_updated = models.PositiveIntegerField(_("activities updated"), default=0)
    activities_unchanged = models.PositiveIntegerField(_("activities unchanged"), default=0)
    activities_skipped = models.PositiveIntegerField(_("activities skipped (not in Libya)"), default=0)
    # [{activity, path, message}]: the IATI identifier, the XPath of what is wrong, and why.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("IATI import")
        verbose_name_plural = _("IATI imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class Intervention(CheckedInputModel):
    """A piece of donor-funded work: an IATI activity, or a programme tracked here."""

    class Source(models.TextChoices):
        IATI = "iati", _("IATI file")
        PROGRAMME = "programme", _("Programme tracked here")

    class Status(models.TextChoices):
        # The IATI ActivityStatus codelist (1–6), by name.
        PIPELINE = "pipeline", _("Pipeline or identification")
        IMPLEMENTATION = "implementation", _("Implementation")
        FINALISATION = "finalisation", _("Finalisation")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")
        SUSPENDED = "suspended", _("Suspended")

    source = models.CharField(_("source"), max_length=20, choices=Source.choices, db_index=True)
    iati_identifier = models.CharField(_("IATI activity identifier"), max_length=150, blank=True, db_index=True)
    programme = models.OneToOneField(
        Programme,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="intervention",
        verbose_name=_("programme"),
    )
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    reporting_org = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_interventions",
        verbose_name=_("reporting organisation"),
    )
    donors = models.ManyToManyField(
        Organisation, related_name="funded_interventions", blank=True, verbose_name=_("donors")
    )
    implementers = models.ManyToManyField(
        Organisation, related_name="implemented_interventions", blank=True, verbose_name=_("implementers")
    )
    municipalities = models.ManyToManyField(
        Organisation, related_name="interventions", blank=True, verbose_name=_("municipalities")
    )
    themes = models.ManyToManyField(Theme, related_name="interventions", blank=True, verbose_name=_("themes"))
    # DAC 5-digit purpose codes (vocabulary 1) and 3-digit categories (vocabulary 2).
    sectors = models.JSONField(_("DAC sectors"), default=list, blank=True)
    sector_categories = models.JSONField(_("DAC sector categories"), default=list, blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    budget = models.DecimalField(_("budget"), max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    committed = models.DecimalField(_("committed"), max_digits=18, decimal_places=2, null=True, blank=True)
    disbursed = models.DecimalField(_("disbursed"), max_digits=18, decimal_places=2, null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, blank=True)
    related_identifiers = models.JSONField(_("related activities"), default=list, blank=True)
    # Normalised titles the detector compares (docs/registry.md): the titles in English and
    # Arabic and, for programmes, their workstreams' names.
    match_titles = models.JSONField(default=list, blank=True, editable=False)
    last_updated = models.DateTimeField(_("last updated (IATI)"), null=True, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["iati_identifier"],
                condition=Q(source="iati"),
                name="intervention_unique_iati_identifier",
                violation_error_message=_("An intervention with this IATI identifier was already imported."),
            ),
            models.CheckConstraint(
                condition=Q(source="iati", programme__isnull=True) | Q(source="programme", programme__isnull=False),
                name="intervention_programme_matches_source",
                violation_error_message=_("Only interventions of programmes tracked here name a programme."),
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="intervention_end_after_start",
                violation_error_message=_("The end date must not be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0),
                name="intervention_budget_non_negative",
                violation_error_message=_("The budget cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class InterventionCell(models.Model):
    """Where and on what: one municipality × theme the intervention works in. An IATI activity
    works on each of its themes in each of its municipalities; a programme only where its
    workstreams do. The detector blocks on these cells and the 3W report lists them."""

    intervention = models.ForeignKey(Intervention, on_delete=models.CASCADE, related_name="cells")
    municipality = models.ForeignKey(Organisation, on_delete=models.CASCADE, null=True, related_name="+")
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, null=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["municipality", "theme"], name="registry_cell_place_theme")]

    def __str__(self) -> str:
        return f"{self.intervention_id}: {self.municipality_id} × {self.theme_id}"


class InterventionLocation(CheckedInputModel):
    """A location an IATI activity names, and the municipality it was matched to (if any)."""

    class MatchedBy(models.TextChoices):
        PCODE = "pcode", _("Place code")
        NAME = "name", _("Name")
        POINT = "point", _("Point within distance")
        ALIAS = "alias", _("Mapped by a person")

    intervention = models.ForeignKey(Intervention, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(_("name"), max_length=300, blank=True)
    vocabulary = models.CharField(_("location-id vocabulary"), max_length=10, blank=True)
    code = models.CharField(_("location-id code"), max_length=100, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    in_libya = models.BooleanField(_("in Libya"), default=False)
    municipality = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    matched_by = models.CharField(_("matched by"), max_length=10, choices=MatchedBy.choices, blank=True)

    class Meta:
        verbose_name = _("intervention location")
        verbose_name_plural = _("intervention locations")
        ordering = ["intervention", "id"]
        indexes = [models.Index(fields=["municipality"], name="registry_location_unmatched")]

    def __str__(self) -> str:
        return self.name or self.code or f"{self.latitude}, {self.longitude}"


class LocationAlias(CheckedInputModel):
    """A location name or code that a person mapped to a municipality once; later imports match
    it without asking again."""

    normalized_name = models.CharField(_("normalised name"), max_length=300, blank=True)
    vocabulary = models.CharField(_("location-id vocabulary"), max_length=10, blank=True)
    code = models.CharField(_("location-id code"), max_length=100, blank=True)
    label = models.CharField(_("location as written"), max_length=300, blank=True)
    municipality = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="location_aliases", verbose_name=_("municipality")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("location alias")
        verbose_name_plural = _("location aliases")
        ordering = ["label"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(normalized_name="") | ~Q(code=""),
                name="location_alias_name_or_code",
                violation_error_message=_("A location alias needs a name or a code."),
            ),
            models.UniqueConstraint(
                fields=["normalized_name"],
                condition=~Q(normalized_name=""),
                name="location_alias_unique_name",
                violation_error_message=_("This location name is already mapped."),
            ),
            models.UniqueConstraint(
                fields=["vocabulary", "code"],
                condition=~Q(code=""),
                name="location_alias_unique_code",
                violation_error_message=_("This location code is already mapped."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} → {self.municipality}"


class InterventionBudget(models.Model):
    intervention = models.ForeignKey(Intervention, on_delete=models.CASCADE, related_name="budgets")
    revised = models.BooleanField(default=False)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    value = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3)
    value_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["intervention", "period_start", "id"]

    def __str__(self) -> str:
        return f"{self.value} {self.currency}"


class InterventionTransaction(models.Model):
    class Kind(models.TextChoices):
        # The IATI TransactionType codes kept by the registry.
        INCOMING_FUNDS = "incoming_funds", _("Incoming funds")
        COMMITMENT = "commitment", _("Commitment")
        DISBURSEMENT = "disbursement", _("Disbursement")
        EXPENDITURE = "expenditure", _("Expenditure")
        OTHER = "other", _("Other")

    intervention = models.ForeignKey(Intervention, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3)
    value_date = models.DateField(null=True, blank=True)
    transaction_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["intervention", "transaction_date", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value} {self.currency}"


class SectorTheme(models.Model):
    """How a DAC sector maps to one of the ministry's themes (docs/design.md §6 `sector-themes/`)."""

    dac_code = models.CharField(_("DAC sector code"), max_length=5, validators=[dac_code_validator], db_index=True)
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="sector_mappings", verbose_name=_("theme"))

    class Meta:
        verbose_name = _("sector–theme mapping")
        verbose_name_plural = _("sector–theme mappings")
        ordering = ["dac_code", "theme"]
        constraints = [
            models.UniqueConstraint(
                fields=["dac_code", "theme"],
                name="sector_theme_unique",
                violation_error_message=_("This sector already maps to this theme."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.dac_code} → {self.theme}"


class OverlapCandidate(CheckedInputModel):
    """Two interventions that may be the same work, scored 0–100 with the reasons; a person
    confirms or dismisses the pair. Nothing is merged by the registry itself."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("overlap candidate status", "Open")
        DUPLICATE = "duplicate", _("Duplicate")
        COFUNDED = "cofunded", _("Co-funded")
        UNRELATED = "unrelated", _("Unrelated")

    intervention_a = models.ForeignKey(Intervention, on_delete=models.CASCADE, related_name="+")
    intervention_b = models.ForeignKey(Intervention, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    reasons = models.JSONField(_("reasons"), default=list)
    # The facts the score was computed from, hashed: a reviewed pair is reopened only when they change.
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    previous_status = models.CharField(_("previous review"), max_length=20, choices=Status.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("overlap candidate")
        verbose_name_plural = _("overlap candidates")
        ordering = ["-score", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(intervention_a__lt=F("intervention_b")),
                name="overlap_candidate_ordered_pair",
                violation_error_message=_("A pair names two different interventions, the lower id first."),
            ),
            models.UniqueConstraint(
                fields=["intervention_a", "intervention_b"],
                name="overlap_candidate_unique_pair",
                violation_error_message=_("This pair is already a candidate."),
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100),
                name="overlap_candidate_score_range",
                violation_error_message=_("A score lies between 0 and 100."),
            ),
        ]
        indexes = [
            models.Index(fields=["intervention_b"], name="registry_candidate_b"),
            models.Index(fields=["status", "-score"], name="registry_candidate_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.intervention_a_id} ↔ {self.intervention_b_id} ({self.score})"

    @property
    def intervention_ids(self) -> list[int]:
        return [self.intervention_a_id, self.intervention_b_id]
