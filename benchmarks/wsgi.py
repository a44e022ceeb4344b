"""The WSGI application the API benchmark serves: the API plus `bench/ceiling/`, a plain
JsonResponse on the same server and middleware, the ceiling the API endpoints are compared to.
Used only by `manage.py bench_api` (gunicorn benchmarks.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twinning.settings")
application = get_wsgi_application()  # sets Django up before the URLs below import the API

from django.conf import settings  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402


def ceiling(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/ceiling/", ceiling),
    path("api/v1/", include("twinning.api_urls")),
]

settings.ROOT_URLCONF = __name__
