"""Settings, read from the environment (see README "Configuration").

DEBUG is off unless set. With DEBUG off a SECRET_KEY must come from the environment.
Without DATABASE_URL the embedded SQLite file is used; without REDIS_URL Celery tasks run
eagerly (on commit) and the cache lives in process memory, so the demo needs no services.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# Signed cookies, password-reset links and CSRF tokens all rest on the key: a short one can be
# guessed offline. 50 characters is what Django's deployment check asks for.
MIN_SECRET_KEY_LENGTH = 50
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug"
elif not DEBUG and len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
    raise ImproperlyConfigured(
        f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters long when DEBUG is off "
        f"(it has {len(SECRET_KEY)}). Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(60))'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # modeltranslation patches the admin, so it must come before it.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "axes",
    "drf_spectacular_sidecar",
    "django_countries",  # its catalogues name countries in each page's language
    "twinning",
    "partners",
    "projects",
    "indicators",
    "rollups",
    "reporting",
    "notifications",
    "registry",
    "web",
    "benchmarks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "common.api.language.QueryLanguageMiddleware",  # ?lang= of a page's download link (after Locale)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "twinning.signin.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "twinning.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "twinning.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "twinning"),
            # A Redis that does not answer must not hang a page: every cache use falls back to
            # computing (reporting.reports.cached), after at most these seconds.
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("CACHE_SOCKET_TIMEOUT", "1")),
                "socket_timeout": float(os.environ.get("CACHE_SOCKET_TIMEOUT", "1")),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: English and Arabic, everywhere.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["twinning.formats"]  # dates and numbers as Libyan documents write them
TIME_ZONE = "Africa/Tripoli"
USE_I18N = True
USE_TZ = True
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = ("en", "ar")
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("en",), "en": ("ar",)}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Upload limits: offline spreadsheets are small; anything bigger is refused before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(10 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The grids post one field per cell: a monthly indicator over three years for 40 municipalities
# is about 1,500, past Django's default of 1,000. The services take at most 10,000 cells a save
# and say so; the memory limit above still bounds a request.
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("DATA_UPLOAD_MAX_NUMBER_FIELDS", "25000"))

# Security: strict unless DEBUG. Behind a TLS-terminating proxy keep SECURE_SSL_REDIRECT on and
# set SECURE_PROXY_SSL_HEADER; a plain-HTTP deployment on loopback may switch the redirect off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
# Both reach beyond this site (every subdomain; browsers' built-in lists, slow to leave), so the
# operator opts in; Django's deployment check is told that leaving them off is a decision.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    # The covering indexes (INCLUDE columns) serve PostgreSQL's index-only scans; the embedded
    # SQLite demo keeps them as plain indexes, which is all it needs.
    *(["models.W040"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []),
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django-csp): scripts, styles, fonts and connections from this site
# only; no inline script and no style attribute (pages pass data in data- attributes or
# json_script elements); images from this site and data: URIs (stylesheets' icons). Nothing
# may frame the pages, and forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# How many reverse proxies of ours stand in front (docker compose: 1, nginx). The client's address,
# which sign-in lockouts and API throttles count, is then the one the outermost of them appended
# to X-Forwarded-For; with 0 it is the connection's own address and the header is ignored.
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))

# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is refused for the cool-off, on the sign-in page and the admin's. Pairs,
# not usernames alone, so no one can lock someone else out from elsewhere (docs/security.md).
AXES_FAILURE_LIMIT = int(os.environ.get("SIGNIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SIGNIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "twinning.signin.client_ip"
AXES_LOCKOUT_CALLABLE = "twinning.signin.lockout_response"
AXES_VERBOSE = False

# Celery: Redis is the broker. Without REDIS_URL tasks run eagerly, still only on commit.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that is down must not hang a request: give up quickly and let the reconcile catch up.
# visibility_timeout: how long a task taken by a worker that then died (SIGKILL, lost machine)
# stays invisible before Redis hands it to another worker (acks_late). Longer than any task.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    # How often a worker looks for such tasks to restore (seconds; kombu's default is 10).
    "unacked_restore_interval": int(os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL", "10")),
}
# Rollups have their own queue, so a ministry that outgrows one machine adds workers for it
# (`celery -A twinning worker -Q rollups`) on more machines; see docs/rollups.md.
CELERY_ROLLUP_QUEUE = os.environ.get("CELERY_ROLLUP_QUEUE", "rollups")
# The queues a worker started without `-Q` consumes: both, so the plain `celery -A twinning worker`
# of the demo and of a one-machine install computes rollups. Dedicated workers still pass `-Q rollups`.
CELERY_TASK_QUEUES = (
    Queue(CELERY_TASK_DEFAULT_QUEUE, routing_key=CELERY_TASK_DEFAULT_QUEUE),
    Queue(CELERY_ROLLUP_QUEUE, routing_key=CELERY_ROLLUP_QUEUE),
)
# The registry's work (a programme's intervention, the duplicate detector) goes to this queue:
# the default one unless set.
CELERY_REGISTRY_QUEUE = os.environ.get("CELERY_REGISTRY_QUEUE", CELERY_TASK_DEFAULT_QUEUE)
CELERY_TASK_ROUTES = {
    "indicators.recompute_indicator_rollups": {"queue": CELERY_ROLLUP_QUEUE},
    "indicators.recompute_alignment": {"queue": CELERY_ROLLUP_QUEUE},
    "indicators.reconcile_rollups": {"queue": CELERY_ROLLUP_QUEUE},
    "rollups.requeue_stale": {"queue": CELERY_ROLLUP_QUEUE},
    # Enqueued by beat, by hand or after a retry alike: the route, not the beat entry, decides.
    "indicators.refresh_progress_to_date": {"queue": CELERY_ROLLUP_QUEUE},
}
# Every task is stopped after these many seconds (SoftTimeLimitExceeded, then the worker process
# is killed); a task may set its own. The hard limit stays below the visibility timeout, or Redis
# would hand a still-running task to a second worker.
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "300"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "360"))
# A task whose delivery killed its worker this many times (the same task and arguments, within a
# day) is dropped with an error in the log instead of being handed out again (`acks_late` +
# `reject_on_worker_lost` redeliver it otherwise, forever). The nightly reconcile still repairs.
CELERY_TASK_MAX_DELIVERIES = int(os.environ.get("CELERY_TASK_MAX_DELIVERIES", "5"))
# A rollup recompute requested this long ago and still not done is taken as lost (Redis was down
# when it was to be enqueued) and sent again by the minute job below, once Redis is back.
ROLLUP_REQUEUE_GRACE_SECONDS = int(os.environ.get("ROLLUP_REQUEUE_GRACE_SECONDS", "120"))
ROLLUP_REQUEUE_EVERY_SECONDS = int(os.environ.get("ROLLUP_REQUEUE_EVERY_SECONDS", "60"))
CELERY_BEAT_SCHEDULE: dict = {
    # Nightly full reconcile (02:30 Africa/Tripoli): logs how many rollup rows it corrected (expected 0).
    "reconcile-rollups-nightly": {
        "task": "indicators.reconcile_rollups",
        "schedule": crontab(hour=2, minute=30),
    },
    # Recomputes that were requested but never enqueued (the broker was down), sent again.
    "requeue-stale-rollups": {
        "task": "rollups.requeue_stale",
        "schedule": float(ROLLUP_REQUEUE_EVERY_SECONDS),
        # A beat tick that no worker took before the next one is worthless: drop it.
        "options": {"expires": float(ROLLUP_REQUEUE_EVERY_SECONDS)},
    },
    # Every programme's registry intervention and a full run of the duplicate detector.
    "refresh-registry-nightly": {
        "task": "registry.refresh",
        "schedule": crontab(hour=3, minute=15),
    },
}
# The reporting cycle (docs/reporting-cycle.md): reminders of results due soon or overdue, and
# the digest for those who want one, every morning. Both are safe to run more than once.
CELERY_NOTIFICATIONS_QUEUE = os.environ.get("CELERY_NOTIFICATIONS_QUEUE", "default")
CELERY_BEAT_SCHEDULE["notification-reminders-daily"] = {
    "task": "notifications.send_reminders",
    "schedule": crontab(hour=7, minute=0),
    "options": {"queue": CELERY_NOTIFICATIONS_QUEUE},
}
CELERY_BEAT_SCHEDULE["notification-digests-daily"] = {
    "task": "notifications.send_digests",
    "schedule": crontab(hour=7, minute=30),
    "options": {"queue": CELERY_NOTIFICATIONS_QUEUE},
}
CELERY_TIMEZONE = TIME_ZONE
# Daily, just after midnight: progress to date moves when a period ends, with no result changing
# (docs/rollups.md, "Progress to date"). On the rollup queue through CELERY_TASK_ROUTES, like every
# task that writes rollups.
CELERY_BEAT_SCHEDULE["refresh-progress-to-date-daily"] = {
    "task": "indicators.refresh_progress_to_date",
    "schedule": crontab(hour=0, minute=20),
}


# E-mail: EMAIL_URL (smtp://user:password@host:587 with STARTTLS as smtp+tls://, implicit TLS as
# smtps://), or Django's EMAIL_HOST, EMAIL_PORT, ... variables. Neither, with DEBUG: e-mails are
# printed on the console (`make run`). SITE_URL makes the links in e-mails absolute.
def email_settings(url: str) -> dict:
    """Django's e-mail settings from one URL."""
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in ("smtp", "smtp+tls", "smtps", "smtp+ssl"):
        raise ImproperlyConfigured(f"EMAIL_URL: unknown scheme {parts.scheme!r}; use smtp, smtp+tls or smtps.")
    implicit_tls = parts.scheme in ("smtps", "smtp+ssl")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if implicit_tls else 587 if parts.scheme == "smtp+tls" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": implicit_tls,
    }


if os.environ.get("EMAIL_URL"):
    globals().update(email_settings(os.environ["EMAIL_URL"]))
elif os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Twinning <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "projects.api.authentication.TokenAndAccessAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.NumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "common.api.exceptions.exception_handler",
    # The browsable API (HTML forms for every endpoint) only in development.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    # Per client: signed-in users by user, others by address. A cache outage lets requests through
    # (common.api.throttling). `token_failures`: wrong API tokens from one address.
    "DEFAULT_THROTTLE_CLASSES": [
        "common.api.throttling.AnonymousRateThrottle",
        "common.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON_RATE", "60/minute"),
        "user": os.environ.get("API_THROTTLE_USER_RATE", "1200/minute"),
        "token_failures": os.environ.get("API_THROTTLE_TOKEN_FAILURE_RATE", "10/minute"),
    },
    "NUM_PROXIES": PROXY_COUNT,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "common.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Twinning API",
    "DESCRIPTION": "Results tracking for municipal twinning programmes: indicators, targets, "
    "results, rollups, and the alignment of national targets with donor goals.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs describe every endpoint: for signed-in users only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI served from this site (no CDN), so the Content-Security-Policy can stay 'self'.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProgrammeStatusEnum": "projects.models.Programme.Status",
        "TwinningStatusEnum": "projects.models.Twinning.Status",
        "ActivityStatusEnum": "projects.models.Activity.Status",
        "ResultStatusEnum": "indicators.models.Result.Status",
        "NewResultStatusEnum": ["draft", "submitted", "approved"],
        "RollupStatusEnum": "rollups.models.Rollup.Status",
        "IatiImportStatusEnum": "registry.models.IatiImport.Status",
        "InterventionStatusEnum": "registry.models.Intervention.Status",
        "OverlapCandidateStatusEnum": "registry.models.OverlapCandidate.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.schema.add_error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO; its warnings (lockouts) are what matter.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
