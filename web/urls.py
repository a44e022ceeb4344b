from django.contrib.auth import views as auth_views
from django.urls import path

from . import accounts, completeness, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", accounts.SignInView.as_view(), name="login"),
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
    path("reports/completeness/", completeness.completeness_report, name="completeness"),
    path("account/", accounts.account, name="account"),
    path("account/password/", accounts.password_change, name="password_change"),
    path("account/password/done/", accounts.password_change_done, name="password_change_done"),
    path("account/password-reset/", accounts.password_reset, name="password_reset"),
    path("account/password-reset/sent/", accounts.password_reset_done, name="password_reset_done"),
    path("account/password-reset/<uidb64>/<token>/", accounts.password_reset_confirm, name="password_reset_confirm"),
    path("account/password-reset/done/", accounts.password_reset_complete, name="password_reset_complete"),
    path("notifications/", accounts.notification_list, name="notification_list"),
    path("notifications/<int:pk>/", accounts.notification_open, name="notification_open"),
    path("notifications/<int:pk>/read/", accounts.notification_read, name="notification_read"),
]
