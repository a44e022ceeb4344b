"""What reporting keeps of its own: the counter that ties cached reports to the names they show."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReportContentVersion(models.Model):
    """One row (id 1) whose `version` goes up whenever something a cached report shows by name
    changes: an indicator, a programme, a national target or a funder goal is saved or deleted.

    Report caches are keyed by the rollup versions, which a rename does not move; this counter
    is part of the same key (`reports.report_version`), so a corrected name or translation shows
    at once instead of after the cache expires. Bumped by the receivers in `indicators.apps`.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(_("version"), default=0)

    class Meta:
        db_table = "indicators_reportcontentversion"
        verbose_name = _("report content version")
        verbose_name_plural = _("report content versions")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="report_content_version_single_row")]

    def __str__(self) -> str:
        return f"report content version {self.version}"
