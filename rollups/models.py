"""Derived numbers, computed and never edited: rollups per indicator, scope, period and
disaggregation, the state of their recompute queue, and the stored alignment snapshot.

Written only by `rollups.engine` and `rollups.alignment`. The tables keep the names they had
when these models lived in `indicators`.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from indicators.models import FunderGoal, Indicator, NationalTarget
from partners.models import Organisation
from rollups import rollup_math

ROLLUP_VALUE_DIGITS = {"max_digits": 28, "decimal_places": 6}


class Rollup(models.Model):
    """One computed progress cell: indicator × scope × period (or life of programme) × disaggregation.

    Written only by `rollups.engine` from approved results and targets (docs/design.md §4); anything
    else that changes numbers calls `rollups.queue.schedule_recompute`. `period_start` and
    `period_end` are both NULL on the life-of-programme (LoP) row. `scope_id` is the id of the
    municipality (an Organisation), the twinning, or the programme, according to `scope`.
    `computed_at` is when this row's numbers last changed; whether its indicator has a recompute
    pending is `IndicatorRollupState` (see `rollups.queue.pending_indicator_ids`).

    LoP rows also carry their progress to date (docs/design.md §4) as of `as_of`: the periods that
    had ended by then. They stay true until the next period of their series ends, when the daily
    `refresh_progress_to_date` recomputes them; period rows have none.
    """

    class Scope(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        TWINNING = "twinning", _("Twinning")
        PROGRAMME = "programme", _("Programme")

    class Status(models.TextChoices):
        """The progress statuses of docs/design.md §4: the values are `rollup_math`'s, the labels
        are stated here only (pages, reports and exports all read them from this class)."""

        NO_DATA = rollup_math.NO_DATA, _("No data")
        NO_TARGET = rollup_math.NO_TARGET, _("No target")
        BELOW = rollup_math.BELOW, _("Below target")
        ON_TRACK = rollup_math.ON_TRACK, _("On track")
        ABOVE = rollup_math.ABOVE, _("Above target")

    # Indexed by `rollup_unique_cell` (indicator first). No foreign key in the database: on a full
    # rebuild its per-row check cost as much as computing the row, and rollups are derived rows
    # that only the engine writes, for indicators it reads under their advisory lock. Deleting an
    # indicator takes that lock (`lock_rollups_of_deleted_indicator`) and Django's cascade removes
    # its rollups; `engine.recompute_all` also sweeps any orphan.
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        related_name="rollups",
        verbose_name=_("indicator"),
        db_index=False,
        db_constraint=False,
    )
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices)
    scope_id = models.BigIntegerField(_("scope id"))
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    disaggregation_category = models.CharField(_("disaggregation category"), max_length=40, blank=True, default="")
    disaggregation_option = models.CharField(_("disaggregation option"), max_length=40, blank=True, default="")
    actual = models.DecimalField(_("actual"), **ROLLUP_VALUE_DIGITS, null=True, blank=True)
    target = models.DecimalField(_("target"), **ROLLUP_VALUE_DIGITS, null=True, blank=True)
    percent_of_target = models.DecimalField(
        _("percent of target"), max_digits=30, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    target_to_date = models.DecimalField(_("target to date"), **ROLLUP_VALUE_DIGITS, null=True, blank=True)
    percent_to_date = models.DecimalField(
        _("percent of target to date"), max_digits=30, decimal_places=2, null=True, blank=True
    )
    status_to_date = models.CharField(_("status to date"), max_length=10, choices=Status.choices, null=True, blank=True)
    as_of = models.DateField(_("to date as of"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        db_table = "indicators_rollup"
        verbose_name = _("rollup")
        verbose_name_plural = _("rollups")
        ordering = ["indicator", "scope", "scope_id", "period_start", "disaggregation_category"]
        constraints = [
            # One index for period cells and every read by indicator (the engine's cell recompute,
            # the API's `?indicator=`, deletes by indicator). Fixed-width columns first: comparing
            # them is what a bulk insert spends its time on. Its NULL periods make LoP rows
            # distinct, hence the next constraint.
            models.UniqueConstraint(
                fields=[
                    "indicator",
                    "scope_id",
                    "period_start",
                    "period_end",
                    "scope",
                    "disaggregation_category",
                    "disaggregation_option",
                ],
                name="rollup_unique_cell",
            ),
            models.UniqueConstraint(
                fields=["indicator", "scope", "scope_id", "disaggregation_category", "disaggregation_option"],
                condition=Q(period_start__isnull=True),
                name="rollup_unique_lop_cell",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True, period_end__isnull=True)
                | Q(period_start__isnull=False, period_end__isnull=False),
                name="rollup_period_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(
                    target_to_date__isnull=True,
                    percent_to_date__isnull=True,
                    status_to_date__isnull=True,
                    as_of__isnull=True,
                ),
                name="rollup_to_date_on_lop_rows_only",
            ),
        ]
        indexes = [
            # The dashboards count each place's indicators by status to date from this index alone
            # (web/dashboards.municipality_overview). Life-of-programme totals only: a few rows per
            # indicator, so a full recompute hardly notices it.
            models.Index(
                fields=["scope", "scope_id"],
                include=["status_to_date"],
                condition=Q(period_start__isnull=True, disaggregation_category=""),
                name="rollup_lop_status_idx",
            ),
        ]

    def __str__(self) -> str:
        period = f"{self.period_start}–{self.period_end}" if self.period_start else "LoP"
        return f"{self.indicator_id} {self.scope}:{self.scope_id} {period} {self.disaggregation}"

    @property
    def disaggregation(self) -> dict[str, str]:
        if not self.disaggregation_category:
            return {}
        return {self.disaggregation_category: self.disaggregation_option}


class IndicatorRollupState(models.Model):
    """Whether an indicator's rollups are up to date.

    Writers bump `requested_version` (inside their transaction, see `rollup_queue`); the engine
    records the `requested_version` it saw before computing as `computed_version`. Pending means
    requested_version > computed_version — a counter, not a timestamp, so a write that commits
    while a recompute runs is never mistaken for included.
    """

    indicator = models.OneToOneField(
        Indicator, on_delete=models.CASCADE, primary_key=True, related_name="rollup_state", verbose_name=_("indicator")
    )
    requested_version = models.BigIntegerField(_("requested version"), default=0)
    computed_version = models.BigIntegerField(_("computed version"), default=0)
    dirty_since = models.DateTimeField(_("stale since"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)

    class Meta:
        db_table = "indicators_indicatorrollupstate"
        verbose_name = _("indicator rollup state")
        verbose_name_plural = _("indicator rollup states")
        indexes = [
            models.Index(
                fields=["indicator"],
                condition=Q(requested_version__gt=F("computed_version")),
                name="rollup_state_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}: requested {self.requested_version}, computed {self.computed_version}"

    @property
    def pending(self) -> bool:
        return self.requested_version > self.computed_version


class AlignmentSnapshot(models.Model):
    """The stored global alignment report (§5, every programme): one row, id 1.

    Its children (`NationalTargetProgress`, `FunderGoalProgress`, `AlignmentMatrixCell`,
    `AlignmentOverlap`) are replaced together by `rollups.alignment.store_global_snapshot`.
    Versions work like `IndicatorRollupState`.
    """

    requested_version = models.BigIntegerField(_("requested version"), default=0)
    computed_version = models.BigIntegerField(_("computed version"), default=0)
    dirty_since = models.DateTimeField(_("stale since"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)

    class Meta:
        db_table = "indicators_alignmentsnapshot"
        verbose_name = _("alignment snapshot")
        verbose_name_plural = _("alignment snapshots")

    def __str__(self) -> str:
        return f"alignment computed {self.computed_at}"

    @property
    def pending(self) -> bool:
        return self.requested_version > self.computed_version


class AlignedProgress(models.Model):
    """Fields shared by the stored progress of a national target and of a funder goal."""

    progress = models.DecimalField(_("progress"), max_digits=30, decimal_places=2, null=True, blank=True)
    progress_to_date = models.DecimalField(
        _("progress to date"), max_digits=30, decimal_places=2, null=True, blank=True
    )
    indicators = models.JSONField(_("indicators"), default=list)
    not_measurable = models.JSONField(_("not measurable indicators"), default=list)
    programmes = models.JSONField(_("programmes"), default=list)
    donors = models.JSONField(_("donors"), default=list)
    municipalities = models.JSONField(_("municipalities"), default=list)
    is_gap = models.BooleanField(_("is a gap"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        abstract = True


class NationalTargetProgress(AlignedProgress):
    national_target = models.OneToOneField(
        NationalTarget, on_delete=models.CASCADE, related_name="stored_progress", verbose_name=_("national target")
    )

    class Meta:
        db_table = "indicators_nationaltargetprogress"
        verbose_name = _("national target progress")
        verbose_name_plural = _("national target progress")

    def __str__(self) -> str:
        return f"{self.national_target_id}: {self.progress}"


class FunderGoalProgress(AlignedProgress):
    """Progress over the goal's own indicators and those of every goal below it."""

    funder_goal = models.OneToOneField(
        FunderGoal, on_delete=models.CASCADE, related_name="stored_progress", verbose_name=_("funder goal")
    )

    class Meta:
        db_table = "indicators_fundergoalprogress"
        verbose_name = _("funder goal progress")
        verbose_name_plural = _("funder goal progress")

    def __str__(self) -> str:
        return f"{self.funder_goal_id}: {self.progress}"


class AlignmentMatrixCell(models.Model):
    national_target = models.ForeignKey(
        NationalTarget, on_delete=models.CASCADE, related_name="+", verbose_name=_("national target")
    )
    funder_goal = models.ForeignKey(
        FunderGoal, on_delete=models.CASCADE, related_name="+", verbose_name=_("funder goal")
    )
    progress = models.DecimalField(_("progress"), max_digits=30, decimal_places=2, null=True, blank=True)
    progress_to_date = models.DecimalField(
        _("progress to date"), max_digits=30, decimal_places=2, null=True, blank=True
    )
    indicators = models.JSONField(_("indicators"), default=list)
    programmes = models.JSONField(_("programmes"), default=list)
    donors = models.JSONField(_("donors"), default=list)
    municipalities = models.JSONField(_("municipalities"), default=list)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        db_table = "indicators_alignmentmatrixcell"
        verbose_name = _("alignment matrix cell")
        verbose_name_plural = _("alignment matrix cells")
        constraints = [
            models.UniqueConstraint(fields=["national_target", "funder_goal"], name="alignment_matrix_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.national_target_id}×{self.funder_goal_id}: {self.progress}"


class AlignmentOverlap(models.Model):
    """A municipality and theme where programmes with different donors work at the same time."""

    municipality = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )
    theme = models.ForeignKey("projects.Theme", on_delete=models.CASCADE, related_name="+", verbose_name=_("theme"))
    programmes = models.JSONField(_("programmes"), default=list)
    donors = models.JSONField(_("donors"), default=list)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        db_table = "indicators_alignmentoverlap"
        verbose_name = _("alignment overlap")
        verbose_name_plural = _("alignment overlaps")
        constraints = [models.UniqueConstraint(fields=["municipality", "theme"], name="alignment_overlap_unique_place")]

    def __str__(self) -> str:
        return f"{self.municipality_id}/{self.theme_id}: {self.programmes}"


class RollupCellRequest(models.Model):
    """A result cell (indicator, municipality, disaggregation) whose rollups must be recomputed.

    Written by `rollup_queue.schedule_cell_recompute` inside the writer's transaction (plain
    inserts: concurrent writers never wait on each other); taken (deleted) by the engine in the
    transaction that recomputes them. While a row exists its indicator counts as pending.
    """

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+", verbose_name=_("indicator"))
    municipality_id = models.BigIntegerField(_("municipality id"))
    disaggregation_category = models.CharField(_("disaggregation category"), max_length=40, blank=True, default="")
    disaggregation_option = models.CharField(_("disaggregation option"), max_length=40, blank=True, default="")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    class Meta:
        db_table = "indicators_rollupcellrequest"
        verbose_name = _("rollup cell request")
        verbose_name_plural = _("rollup cell requests")

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.municipality_id}/{self.disaggregation_category}:{self.disaggregation_option}"
