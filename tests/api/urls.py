"""The API alone, so API tests do not depend on the pages' URLs."""

from django.urls import include, path

urlpatterns = [path("api/v1/", include("twinning.api_urls"))]
