"""Sign-in lockout (django-axes): which address is counted and what a locked-out user sees.

Settings (AXES_*) say how many wrong passwords and for how long; docs/security.md says why.
"""

import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LockoutBackend(AxesStandaloneBackend):
    """Axes' backend, for sign-ins over the web only.

    Every web sign-in (the sign-in page, the admin's) passes its request; an authentication
    without one (the shell, a management command, the test client's `login`) has no address to
    count and is left to the password backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_ip(request: HttpRequest) -> str:
    """The client's address: the connection's, or with `PROXY_COUNT` proxies of ours in front,
    the address the outermost one appended to X-Forwarded-For (entries before it are whatever
    the client chose to send, so they are never trusted)."""
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.PROXY_COUNT <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(settings.PROXY_COUNT, len(forwarded))]


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page a locked-out sign-in gets (429), in the page's language."""
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
