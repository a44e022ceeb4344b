"""The REST API v1 (docs/design.md §6): one router under /api/v1/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from indicators.api import views as indicators
from notifications.api import views as notifications
from projects.api import partners
from projects.api import views as projects
from registry.api import views as registry
from reporting.api import views as reporting
from rollups.api import views as rollups

router = DefaultRouter()
router.register("memberships", partners.MembershipViewSet, basename="membership")
router.register("organisations", partners.OrganisationViewSet, basename="organisation")
router.register("programmes", projects.ProgrammeViewSet, basename="programme")
router.register("twinnings", projects.TwinningViewSet, basename="twinning")
router.register("themes", projects.ThemeViewSet, basename="theme")
router.register("workstreams", projects.WorkstreamViewSet, basename="workstream")
router.register("activities", projects.ActivityViewSet, basename="activity")
router.register("national-targets", indicators.NationalTargetViewSet, basename="national-target")
router.register("funder-goals", indicators.FunderGoalViewSet, basename="funder-goal")
router.register("indicators", indicators.IndicatorViewSet, basename="indicator")
router.register("standard-indicators", indicators.StandardIndicatorViewSet, basename="standard-indicator")
router.register("alignments", indicators.AlignmentViewSet, basename="alignment")
router.register("targets", indicators.TargetViewSet, basename="target")
router.register("results", indicators.ResultViewSet, basename="result")
router.register("rollups", rollups.RollupViewSet, basename="rollup")
router.register("notifications", notifications.NotificationViewSet, basename="notification")
router.register("iati-imports", registry.IatiImportViewSet, basename="iati-import")
router.register("interventions", registry.InterventionViewSet, basename="intervention")
router.register("sector-themes", registry.SectorThemeViewSet, basename="sector-theme")
router.register("overlap-candidates", registry.OverlapCandidateViewSet, basename="overlap-candidate")
router.register("unmatched-locations", registry.UnmatchedLocationViewSet, basename="unmatched-location")
router.register("location-aliases", registry.LocationAliasViewSet, basename="location-alias")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the page needs no inline script (CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("reports/iptt/", reporting.IPTTView.as_view(), name="report-iptt"),
    path("reports/alignment/", reporting.AlignmentReportView.as_view(), name="report-alignment"),
    path("reports/completeness/", reporting.CompletenessView.as_view(), name="report-completeness"),
    path("exports/iati/", reporting.IATIExportView.as_view(), name="export-iati"),
    path("reports/3w/", registry.ThreeWView.as_view(), name="report-3w"),
    path("", include(router.urls)),
]
