"""Indicators and everything measured against them: targets, results, national targets,
funder goals and the alignments that line them up (docs/design.md §3)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from common.models import CheckedInputModel
from common.text import outline_code_validator
from partners.models import Organisation
from projects.models import Programme, Workstream

# What a stored value may hold (docs/design.md §4): 12 digits before the decimal point, 6 after.
VALUE_DIGITS = {"max_digits": 18, "decimal_places": 6}


class DisaggregationCategory(CheckedInputModel):
    """A way of splitting a total: sex, age, disability. Categories and options are data."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    required_translations = ("name",)

    class Meta:
        verbose_name = _("disaggregation category")
        verbose_name_plural = _("disaggregation categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DisaggregationOption(CheckedInputModel):
    category = models.ForeignKey(
        DisaggregationCategory, on_delete=models.CASCADE, related_name="options", verbose_name=_("category")
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100, blank=True)
    required_translations = ("name",)

    class Meta:
        verbose_name = _("disaggregation option")
        verbose_name_plural = _("disaggregation options")
        ordering = ["category", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="disaggregation_option_unique_code")]

    def __str__(self) -> str:
        return f"{self.category}: {self.name}"


class IndicatorDefinition(CheckedInputModel):
    """What defines a measure, whoever keeps it: a programme's indicator, or a standard indicator of
    the ministry's list that programmes copy so that the same national measure is counted the same
    way everywhere. Declared once here, so a copy can carry every field of it."""

    class Level(models.TextChoices):
        GOAL = "goal", _("Goal")
        OUTCOME = "outcome", _("Outcome")
        OUTPUT = "output", _("Output")

    class Measure(models.TextChoices):
        NUMBER = "number", _("Number")
        PERCENTAGE = "percentage", _("Percentage")
        SCORE = "score", _("Score")

    class TimeAggregation(models.TextChoices):
        SUM = "sum", _("Sum of periods")
        CUMULATIVE = "cumulative", _("Cumulative (running total)")
        LATEST = "latest", _("Latest value")

    class Direction(models.TextChoices):
        INCREASE = "increase", _("Increase is better")
        DECREASE = "decrease", _("Decrease is better")

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        SEMIANNUAL = "semiannual", _("Semi-annual")
        ANNUAL = "annual", _("Annual")

    code = models.CharField(_("code"), max_length=40, validators=[outline_code_validator])
    name = models.CharField(_("name"), max_length=300, blank=True)
    required_translations = ("name",)
    definition = models.TextField(_("definition"), blank=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.OUTPUT)
    unit = models.CharField(_("unit of measure"), max_length=100, blank=True)
    measure = models.CharField(_("measure"), max_length=12, choices=Measure.choices, default=Measure.NUMBER)
    time_aggregation = models.CharField(
        _("time aggregation"), max_length=12, choices=TimeAggregation.choices, default=TimeAggregation.SUM
    )
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.INCREASE)
    frequency = models.CharField(
        _("reporting frequency"), max_length=12, choices=Frequency.choices, default=Frequency.QUARTERLY
    )
    # Plausible values (docs/design.md §4); unset, the measure decides (see `value_bounds`).
    value_min = models.DecimalField(
        _("lowest plausible value"),
        **VALUE_DIGITS,
        null=True,
        blank=True,
        help_text=_("Leave empty for the measure's default: 0 for numbers and percentages, none for scores."),
    )
    value_max = models.DecimalField(
        _("highest plausible value"),
        **VALUE_DIGITS,
        null=True,
        blank=True,
        help_text=_("Leave empty for the measure's default: 100 for percentages, none for numbers and scores."),
    )
    whole_numbers = models.BooleanField(
        _("whole numbers only"), default=False, help_text=_("Refuse values with a fraction, such as 2.5 people.")
    )
    # `indicators` for Indicator, as before the definition was shared.
    disaggregations = models.ManyToManyField(
        DisaggregationCategory, related_name="%(class)ss", verbose_name=_("disaggregations"), blank=True
    )
    # Performance Indicator Reference Sheet (PIRS) fields.
    data_source = models.TextField(_("data source"), blank=True)
    collection_method = models.TextField(_("data collection method"), blank=True)
    responsible = models.CharField(_("responsible for data"), max_length=250, blank=True)
    known_limitations = models.TextField(_("known data limitations"), blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(value_min__isnull=True) | Q(value_max__isnull=True) | Q(value_max__gte=F("value_min")),
                name="%(class)s_value_bounds_ordered",
                violation_error_message=_("The highest plausible value cannot be below the lowest."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def value_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """The lowest and highest plausible value (None: unbounded), the indicator's own or its
        measure's: a number is at least 0, a percentage lies in 0–100, a score has no bounds
        (docs/design.md §4)."""
        low, high = MEASURE_BOUNDS[self.measure]
        return (
            self.value_min if self.value_min is not None else low,
            self.value_max if self.value_max is not None else high,
        )


class StandardIndicator(IndicatorDefinition):
    """An indicator of the ministry's standard list: programmes copy it (`indicator_copy`), and
    each copy remembers it (`Indicator.standard`)."""

    class Meta(IndicatorDefinition.Meta):
        verbose_name = _("standard indicator")
        verbose_name_plural = _("standard indicators")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                name="standard_indicator_unique_code",
                violation_error_message=_("The standard list already has an indicator with this code."),
                # Reported on the code field rather than as a message about the whole form.
                violation_error_code="unique",
            ),
            *IndicatorDefinition.Meta.constraints,
        ]


class Indicator(IndicatorDefinition):
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("programme")
    )
    workstream = models.ForeignKey(
        Workstream,
        on_delete=models.SET_NULL,
        related_name="indicators",
        verbose_name=_("workstream"),
        null=True,
        blank=True,
    )
    baseline_value = models.DecimalField(_("baseline value"), **VALUE_DIGITS, null=True, blank=True)
    baseline_date = models.DateField(_("baseline date"), null=True, blank=True)
    lop_target = models.DecimalField(_("life-of-programme target"), **VALUE_DIGITS, null=True, blank=True)
    # Protected: a standard that programmes count by is not deleted under them.
    standard = models.ForeignKey(
        StandardIndicator,
        on_delete=models.PROTECT,
        related_name="indicators",
        verbose_name=_("standard indicator"),
        null=True,
        blank=True,
        help_text=_("The standard indicator this one was copied from."),
    )

    class Meta(IndicatorDefinition.Meta):
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["programme", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="indicator_unique_code_per_programme",
                violation_error_message=_("This programme already has an indicator with this code."),
            ),
            *IndicatorDefinition.Meta.constraints,
        ]


MEASURE_BOUNDS = {
    IndicatorDefinition.Measure.NUMBER: (Decimal(0), None),
    IndicatorDefinition.Measure.PERCENTAGE: (Decimal(0), Decimal(100)),
    IndicatorDefinition.Measure.SCORE: (None, None),
}


class NationalTarget(CheckedInputModel):
    """A target of the ministry's national plan."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[outline_code_validator])
    title = models.CharField(_("title"), max_length=300, blank=True)
    required_translations = ("title",)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        related_name="national_targets",
        verbose_name=_("owner"),
        null=True,
        blank=True,
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    sdg_targets = models.JSONField(_("SDG targets"), default=list, blank=True, help_text=_("e.g. 11.3, 16.7"))

    class Meta:
        verbose_name = _("national target")
        verbose_name_plural = _("national targets")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class FunderGoal(CheckedInputModel):
    """A node of a donor's results framework (a tree)."""

    donor = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="funder_goals", verbose_name=_("donor")
    )
    code = models.CharField(_("code"), max_length=40, validators=[outline_code_validator])
    title = models.CharField(_("title"), max_length=300, blank=True)
    required_translations = ("title",)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        related_name="children",
        verbose_name=_("parent goal"),
        null=True,
        blank=True,
    )
    sdg_targets = models.JSONField(_("SDG targets"), default=list, blank=True)

    class Meta:
        verbose_name = _("funder goal")
        verbose_name_plural = _("funder goals")
        ordering = ["donor", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["donor", "code"],
                name="funder_goal_unique_code_per_donor",
                violation_error_message=_("This donor already has a goal with this code."),
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="funder_goal_not_own_parent",
                violation_error_message=_("A goal cannot be its own parent."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Alignment(models.Model):
    """An indicator counted towards a national target or a funder goal."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="alignments", verbose_name=_("indicator")
    )
    national_target = models.ForeignKey(
        NationalTarget,
        on_delete=models.CASCADE,
        related_name="alignments",
        verbose_name=_("national target"),
        null=True,
        blank=True,
    )
    funder_goal = models.ForeignKey(
        FunderGoal,
        on_delete=models.CASCADE,
        related_name="alignments",
        verbose_name=_("funder goal"),
        null=True,
        blank=True,
    )
    weight = models.DecimalField(_("weight"), max_digits=8, decimal_places=4, default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("alignment")
        verbose_name_plural = _("alignments")
        constraints = [
            models.CheckConstraint(
                condition=(Q(national_target__isnull=False) & Q(funder_goal__isnull=True))
                | (Q(national_target__isnull=True) & Q(funder_goal__isnull=False)),
                name="alignment_exactly_one_target",
                violation_error_message=_("Align the indicator to exactly one national target or funder goal."),
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0),
                name="alignment_weight_non_negative",
                violation_error_message=_("The weight cannot be negative."),
            ),
            models.UniqueConstraint(
                fields=["indicator", "national_target"],
                condition=Q(national_target__isnull=False),
                name="alignment_unique_indicator_national_target",
                violation_error_message=_("This indicator is already aligned to this national target."),
            ),
            models.UniqueConstraint(
                fields=["indicator", "funder_goal"],
                condition=Q(funder_goal__isnull=False),
                name="alignment_unique_indicator_funder_goal",
                violation_error_message=_("This indicator is already aligned to this funder goal."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} → {self.national_target or self.funder_goal}"


class Target(CheckedInputModel):
    """The value planned for one period; municipality null means the programme as a whole."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="targets", verbose_name=_("indicator")
    )
    municipality = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="targets",
        verbose_name=_("municipality"),
        null=True,
        blank=True,
        help_text=_("Leave empty for a programme-wide target."),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    value = models.DecimalField(_("value"), **VALUE_DIGITS)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["indicator", "period_start", "municipality"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")),
                name="target_period_end_after_start",
                violation_error_message=_("The period end must be after the period start."),
            ),
            models.UniqueConstraint(
                fields=["indicator", "period_start", "period_end", "municipality"],
                condition=Q(municipality__isnull=False),
                name="target_unique_per_municipality_period",
                violation_error_message=_("This municipality already has a target for this period."),
            ),
            models.UniqueConstraint(
                fields=["indicator", "period_start", "period_end"],
                condition=Q(municipality__isnull=True),
                name="target_unique_programme_wide_period",
                violation_error_message=_("This indicator already has a programme-wide target for this period."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.period_start}–{self.period_end}: {self.value}"


class Result(CheckedInputModel):
    """A reported value for one indicator, period, municipality and disaggregation.

    The disaggregation is stored as two columns (category, option), both empty for the total, so
    that the uniqueness of a cell and the rollup's GROUP BY are plain column operations.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned")

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="results", verbose_name=_("indicator")
    )
    municipality = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="results", verbose_name=_("municipality")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    disaggregation_category = models.CharField(_("disaggregation category"), max_length=40, blank=True, default="")
    disaggregation_option = models.CharField(_("disaggregation option"), max_length=40, blank=True, default="")
    value = models.DecimalField(_("value"), **VALUE_DIGITS)
    numerator = models.DecimalField(_("numerator"), **VALUE_DIGITS, null=True, blank=True)
    denominator = models.DecimalField(_("denominator"), **VALUE_DIGITS, null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    comment = models.TextField(_("comment"), blank=True)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Who last changed the values: with `created_by` and `submitted_by`, who may not review it
    # (docs/design.md §7).
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last changed by"),
        null=True,
        blank=True,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # Kept through returns and resubmissions: whether a period was reported on time depends on
    # when it was first sent for approval (docs/reporting-cycle.md).
    first_submitted_at = models.DateTimeField(_("first submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        ordering = ["indicator", "period_start", "municipality", "disaggregation_category", "disaggregation_option"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")),
                name="result_period_end_after_start",
                violation_error_message=_("The period end must be after the period start."),
            ),
            models.UniqueConstraint(
                fields=[
                    "indicator",
                    "period_start",
                    "period_end",
                    "municipality",
                    "disaggregation_category",
                    "disaggregation_option",
                ],
                name="result_unique_cell",
                violation_error_message=_(
                    "A result for this indicator, period, municipality and disaggregation already exists."
                ),
            ),
            models.CheckConstraint(
                condition=(Q(disaggregation_category="") & Q(disaggregation_option=""))
                | (~Q(disaggregation_category="") & ~Q(disaggregation_option="")),
                name="result_disaggregation_pair",
                violation_error_message=_("A disaggregation needs both a category and an option."),
            ),
            models.CheckConstraint(
                condition=(Q(numerator__isnull=True) & Q(denominator__isnull=True))
                # NULL compares as unknown, which a CHECK lets through: require both parts explicitly.
                | Q(numerator__isnull=False, denominator__isnull=False, numerator__gte=0, denominator__gt=0),
                name="result_percentage_parts_valid",
                violation_error_message=_(
                    "A percentage needs a numerator of at least 0 and a denominator greater than 0."
                ),
            ),
        ]
        indexes = [
            models.Index(
                fields=["indicator", "period_start", "municipality"],
                condition=Q(status="approved"),
                name="result_approved_idx",
            ),
            # The rollup fast path reads one (indicator, disaggregation, municipality) cell.
            models.Index(
                fields=["indicator", "disaggregation_category", "disaggregation_option", "municipality"],
                condition=Q(status="approved"),
                name="result_approved_cell_idx",
            ),
            # API lists page by id within an indicator (keyset pagination).
            models.Index(fields=["indicator", "id"], name="result_indicator_keyset_idx"),
            # Completeness reads every reported total, with when it was sent, from this index alone
            # (reporting/completeness.py).
            models.Index(
                fields=["indicator", "period_start", "period_end", "municipality"],
                include=["first_submitted_at", "submitted_at", "created_at"],
                condition=Q(disaggregation_category="", disaggregation_option="", status__in=["submitted", "approved"]),
                name="result_reported_total_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.municipality} {self.period_start}–{self.period_end}"

    @property
    def disaggregation(self) -> dict[str, str]:
        if not self.disaggregation_category:
            return {}
        return {self.disaggregation_category: self.disaggregation_option}
