"""Test settings: the production settings with local PostgreSQL and Redis as defaults.

`DATABASE_URL` and `REDIS_URL` in the environment still win.
"""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/twinning")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
# Under pytest-xdist ("gw0", "gw1", …) each test process moves to a Redis database of its own
# (the next ones after REDIS_URL's), so one process's Celery worker never takes another's tasks
# and one's cache.clear() spares the other. The workers the tests start inherit the moved URL and
# the mark, and stay where their test process is.
_TEST_PROCESS = os.environ.get("PYTEST_XDIST_WORKER", "")
if _TEST_PROCESS.startswith("gw") and os.environ.get("TWINNING_TEST_REDIS_MOVED_FOR") != _TEST_PROCESS:
    _url = urlsplit(os.environ["REDIS_URL"])
    _number = int(_url.path.strip("/") or 0)  # no database in the URL: Redis's database 0
    os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{_number + 1 + int(_TEST_PROCESS[2:])}"))
    os.environ["TWINNING_TEST_REDIS_MOVED_FOR"] = _TEST_PROCESS
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# The suite makes thousands of API requests from one address and shares one Redis between tests;
# the throttle tests set the production-like rates they check.
os.environ.setdefault("API_THROTTLE_ANON_RATE", "1000000/minute")
os.environ.setdefault("API_THROTTLE_USER_RATE", "1000000/minute")
os.environ.setdefault("API_THROTTLE_TOKEN_FAILURE_RATE", "1000000/minute")

from .settings import *  # noqa: E402, F403 (the environment above must be set first)

# Hashing passwords slowly protects real users, not test fixtures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files from the app folders, as runserver does, without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Parallel test processes share one Redis: keep their cached reports apart.
CACHES["default"]["KEY_PREFIX"] = "twinning-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405
