"""API throttles (rates in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).

They keep their counts in the cache. A cache that is down lets the request through, logged: the
throttle protects the service, and refusing everyone while Redis is away would do the harm it is
there to prevent. Rates are read when a throttle is made, not when this module is imported, so
settings changed later (tests, a reload) apply.
"""

from __future__ import annotations

import logging

from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class _Configured:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class _CountedWindow(_Configured):
    """Counts a client's requests in fixed windows of the rate's duration, one cache counter per
    window, incremented atomically. DRF's own throttle keeps the time of every request of the
    window in one cache entry that each request reads and writes back whole, so its cost grows
    with the rate allowed: at a few hundred requests a second it halved the fastest endpoints
    (docs/performance.md). A window may let up to twice the rate through across its edge, the
    usual price of a fixed window.

    A cache that is down lets the request through, logged (see the module docstring)."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        counter = f"{key}:{window}"
        try:
            try:
                count = self.cache.incr(counter)
            except ValueError:  # the window's first request, unless another opened it meanwhile
                count = 1 if self.cache.add(counter, 1, self.duration + 1) else self.cache.incr(counter)
        except Exception:  # the cache is down: let the request through
            logger.warning("API throttle %s skipped: cache unavailable", self.scope, exc_info=True)
            return True
        return count <= self.num_requests

    def wait(self) -> float:
        return max(self.window_ends_at - self.timer(), 1)


class AnonymousRateThrottle(_CountedWindow, throttling.AnonRateThrottle):
    """Requests without a signed-in user, counted by address."""


class UserRateThrottle(_CountedWindow, throttling.UserRateThrottle):
    """Requests of a signed-in user, counted by user."""


class FailedTokenThrottle(_Configured, throttling.SimpleRateThrottle):
    """Wrong API tokens, counted by address: past the rate, even a right token from that address
    waits, so tokens cannot be guessed at the speed of the network. Used by the token
    authentication itself, which runs before any view throttle."""

    scope = "token_failures"

    def get_cache_key(self, request, view=None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _recent(self, request) -> list[float] | None:
        """This address's recent failures (newest first), or None when the cache cannot say."""
        self.key = self.get_cache_key(request)
        self.now = self.timer()
        try:
            history = self.cache.get(self.key, [])
        except Exception:
            logger.warning("token failure count unavailable: cache down", exc_info=True)
            return None
        return [moment for moment in history if moment > self.now - self.duration]

    def wait_before_trying(self, request) -> float | None:
        """Seconds this address must wait before its next token is looked at; None: go ahead."""
        if self.rate is None:
            return None
        history = self._recent(request)
        if history is None or len(history) < self.num_requests:
            return None
        self.history = history
        return self.wait()

    def record_failure(self, request) -> None:
        if self.rate is None:
            return
        history = self._recent(request)
        if history is None:
            return
        try:
            self.cache.set(self.key, [self.now, *history][: self.num_requests], self.duration)
        except Exception:
            logger.warning("token failure not counted: cache down", exc_info=True)
