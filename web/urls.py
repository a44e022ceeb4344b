from django.contrib.auth import views as auth_views
from django.urls import path

from . import registry, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("ministry/", views.ministry_dashboard, name="ministry_dashboard"),
    path("donor/", views.donor_dashboard, name="donor_dashboard"),
    path("programmes/", views.programme_list, name="programme_list"),
    path("programmes/<int:pk>/", views.programme_detail, name="programme_detail"),
    path("municipalities/", views.municipality_list, name="municipality_list"),
    path("municipalities/<int:pk>/", views.municipality_detail, name="municipality_detail"),
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/new/", views.activity_create_view, name="activity_create"),
    path("activities/<int:pk>/edit/", views.activity_update_view, name="activity_update"),
    path("results/enter/", views.result_entry, name="result_entry"),
    path("results/approvals/", views.approval_queue, name="approval_queue"),
    path("results/<int:pk>/history/", views.result_history, name="result_history"),
    path("results/<int:pk>/reopen/", views.result_reopen_view, name="result_reopen"),
    path("results/spreadsheet/", views.spreadsheet, name="spreadsheet"),
    path("registry/", registry.registry_home, name="registry_home"),
    path("registry/interventions/<int:pk>/", registry.registry_intervention, name="registry_intervention"),
    path("registry/imports/", registry.registry_imports, name="registry_imports"),
    path("registry/imports/<int:pk>/", registry.registry_import, name="registry_import"),
    path("registry/candidates/", registry.registry_candidates, name="registry_candidates"),
    path("registry/candidates/<int:pk>/review/", registry.registry_candidate_review, name="registry_candidate_review"),
    path("registry/locations/", registry.registry_locations, name="registry_locations"),
    path("registry/sector-themes/", registry.registry_sector_themes, name="registry_sector_themes"),
    path("registry/3w/", registry.registry_3w, name="registry_3w"),
]
