"""Settings, all read from the environment.

Nothing set gives the embedded default: SQLite in WAL mode, the Celery
file-system broker and mail written to files, everything under `var/`.
"""

import base64
import hashlib
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from uniview.env import (
    env_bool,
    env_cidrs,
    env_days,
    env_int,
    env_list,
    env_networks,
    env_str,
    fernet_keys,
    generated_fernet_key,
    generated_secret,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("UNIVIEW_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY") or generated_secret(VAR_DIR / "secret_key")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The portal's own address: every link in emails (invitations included) and tickets starts with
# it, never with the Host header of a request, which the sender chooses. Set it in production;
# the default fits the embedded default (`manage.py runserver`).
PORTAL_URL = env_str("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "tenancy",
    "inventory",
    "thresholds",
    "maintenance",
    "alerts",
    "integrations",
    "notifications",
    "reports",
    "axes",
    "django_prometheus",
    "observability",
    "audit",
    "overview",
]

MIDDLEWARE = [
    "tenancy.proxies.TrustedProxyMiddleware",  # before anything reads X-Forwarded-*
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "observability.middleware.RequestIdMiddleware",
    "uniview.bad_input.BadInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the session passed the code step
    "tenancy.middleware.TwoFactorMiddleware",
    "tenancy.timezones.TimeZoneMiddleware",  # dates in the person's zone (their choice, else their browser's)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "uniview.security.SecurityHeadersMiddleware",
    "audit.context.CurrentRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "uniview.urls"
WSGI_APPLICATION = "uniview.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alerts.context_processors.bell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# DATABASE_URL=postgres://user:pass@host:5432/name in production; SQLite in WAL
# mode under var/ otherwise. IMMEDIATE transactions stop SQLite writers from
# deadlocking each other when the worker and the web server write at once.
_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "uniview.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

# --- Security (issue 7): cookies, headers, login throttling, outbound URLs, metrics --------
# SECURE_COOKIES=1 means the portal is served over https. TRUSTED_PROXIES lists the
# reverse proxies (addresses or networks) whose X-Forwarded-Proto and X-Forwarded-For
# count; from any other peer those headers are dropped (tenancy/proxies.py). Only
# when the portal can tell https from http (a trusted proxy) does it redirect http
# to https: without one, every request behind a TLS proxy looks like http and would
# loop. HSTS is sent on https answers only, so it is on by default under SECURE_COOKIES.
# /healthz and /metrics are never redirected: load balancers and scrapers probe over http.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", [])
BEHIND_HTTPS_PROXY = env_bool("BEHIND_HTTPS_PROXY", bool(TRUSTED_PROXIES))
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page (hx-headers), never from the cookie
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600 if SESSION_COOKIE_SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SESSION_COOKIE_SECURE and BEHIND_HTTPS_PROXY)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
# django-axes: lock a username from one address after LOGIN_FAILURE_LIMIT failures.
AUTHENTICATION_BACKENDS = ["uniview.security.ThrottledLoginBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "tenancy.proxies.client_address"  # the real client behind TRUSTED_PROXIES
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Outbound vendor calls (integrations/url_guard.py). Only global addresses are reached unless the
# operator opens private ranges (OUTBOUND_ALLOW_PRIVATE=1) or exactly some networks
# (OUTBOUND_ALLOW_CIDRS); https is required behind SECURE_COOKIES. Loopback, link-local and cloud
# metadata are refused whatever is set here; OUTBOUND_ALLOW_LOOPBACK is deliberately not read from the environment — only the test
# settings (tests/settings.py) and the local demo (demo/settings.py) open it for their fakes.
OUTBOUND_REQUIRE_HTTPS = env_bool("OUTBOUND_REQUIRE_HTTPS", SESSION_COOKIE_SECURE)
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", False)  # closed unless the operator opens it
OUTBOUND_ALLOW_CIDRS = env_cidrs("OUTBOUND_ALLOW_CIDRS")
OUTBOUND_ALLOW_LOOPBACK = False
# /metrics answers a bearer METRICS_TOKEN from anywhere, otherwise only a client in METRICS_ALLOW
# (the peer, or the forwarded client when the peer is a trusted proxy).
METRICS_ALLOW = env_networks("METRICS_ALLOW", ["127.0.0.1", "::1"])
METRICS_TOKEN = env_str("METRICS_TOKEN")
PROMETHEUS_EXPORT_MIGRATIONS = False
# LOG_FORMAT=json: workers log through LOGGING too (one JSON object a line, with the task id).
CELERY_WORKER_HIJACK_ROOT_LOGGER = env_str("LOG_FORMAT") != "json"

# --- Credentials at rest -----------------------------------------------------
# FIELD_ENCRYPTION_KEY: Fernet keys, comma-separated (the first encrypts, all
# decrypt), each checked at start. Production — a shared database (DATABASE_URL)
# or a deployment behind https (SECURE_COOKIES), the same two markers as above —
# must set it: every process and host has to read the same credentials, and a key
# must not be derivable from SECRET_KEY. The embedded default makes one in var/.
PRODUCTION = bool(_database_url) or SESSION_COOKIE_SECURE
if env_str("FIELD_ENCRYPTION_KEY").strip():
    FIELD_ENCRYPTION_KEY = fernet_keys("FIELD_ENCRYPTION_KEY", env_str("FIELD_ENCRYPTION_KEY"))
elif PRODUCTION:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY is required when DATABASE_URL or SECURE_COOKIES is set. Generate one with "
        "python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\""
    )
else:
    # An embedded install from before kept its credentials under a key derived from
    # SECRET_KEY (both live in var/): that key is adopted once, decrypt-only, so they
    # stay readable; `rotate_credentials_key` moves them to the new key.
    _key_file, _earlier = VAR_DIR / "field_encryption_key", ""
    if not _key_file.exists() and (VAR_DIR / "uniview.sqlite3").exists():
        _earlier = base64.urlsafe_b64encode(hashlib.sha256(f"field-encryption:{SECRET_KEY}".encode()).digest()).decode()
    FIELD_ENCRYPTION_KEY = generated_fernet_key(_key_file, adopt=_earlier)

# --- Email ------------------------------------------------------------------
# EMAIL_BACKEND may name any Django or anymail backend, e.g.
# "anymail.backends.mailgun.EmailBackend" with ANYMAIL_* settings below.
# EMAIL_HOST alone selects SMTP. Nothing set writes messages to var/mail/.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "uniview <alerts@uniview.invalid>")
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "notifications.channels.smtp.EmailBackend"  # Django's, cheaper per message (pipelining)
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in __import__("os").environ.items()
    if key.startswith("ANYMAIL_")
}

# --- Celery ---------------------------------------------------------------
# CELERY_BROKER_URL=redis://host:6379/0 in production; the file-system broker
# under var/ otherwise. The database owns what must be delivered (outbox);
# the broker only carries nudges, so a flushed broker loses nothing.
_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Evaluation and delivery tuning -----------------------------------------
# R14.1: beat's evaluation by due time; a cycle with nothing due reads an index and writes
# nothing, so it runs every minute: a missed backup is alerted within a minute of S + N.
EVALUATION_INTERVAL_SECONDS = env_int("EVALUATION_INTERVAL_SECONDS", 60)
# The latest an asset is evaluated again after its last evaluation, whatever its moments.
EVALUATION_DUE_HORIZON_HOURS = env_int("EVALUATION_DUE_HORIZON_HOURS", 24)
# An evaluation of at least this many assets computes the conditional alarms on a thread of
# its own while it writes (alerts/read_ahead.py).
EVALUATION_READ_AHEAD_FROM = env_int("EVALUATION_READ_AHEAD_FROM", 5000)
# A full evaluation of an account with more organizations than this is split into Celery
# tasks of this many organizations each, which several workers share.
EVALUATION_SHARD_ORGANIZATIONS = env_int("EVALUATION_SHARD_ORGANIZATIONS", 200)
# R15.6: how soon a queued on-demand evaluation tries again while another run holds the account.
EVALUATION_RETRY_SECONDS = env_int("EVALUATION_RETRY_SECONDS", 5)
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 60)
# A background job (an evaluation or sync asked for from a page or the API) still queued or
# running after this long lost its worker: reading it ends it as failed.
BACKGROUND_JOB_TIMEOUT_SECONDS = env_int("BACKGROUND_JOB_TIMEOUT_SECONDS", 1800)
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 300)
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 8)
# Fan-out: deliveries claimed and sent per task (one lease for the batch), and the threads a
# worker process sends a batch on (PSA sessions are kept per thread and integration).
DELIVERY_BATCH_SIZE = env_int("DELIVERY_BATCH_SIZE", 200)
DELIVERY_THREADS = env_int("DELIVERY_THREADS", 4)
APPLIANCE_OFFLINE_MINUTES = env_int("APPLIANCE_OFFLINE_MINUTES", 30)

# --- Retention (observability/retention.py): rows older than this many days are pruned daily;
# 0 keeps them forever. Never pruned, whatever their age: each asset's newest backup, newest good
# backup and the backups its hot-copy alarm reads; an open alert's history; a pending delivery.
# R18.1: compliance reaches 365 days back, so backups and SaaS statuses stay at least a year.
RETENTION_BACKUP_DAYS = env_days("RETENTION_BACKUP_DAYS", 400, 366, "R18.1: a year of compliance")
RETENTION_SAAS_STATUS_DAYS = env_days("RETENTION_SAAS_STATUS_DAYS", 400, 366, "R18.1: a year of compliance")
# R18.1: a back-fill of at least this many asset-days is computed in this many spans of days at
# once, each on its own database connection (one per core of the database's machine).
COMPLIANCE_PARALLEL_FROM = env_int("COMPLIANCE_PARALLEL_FROM", 200_000)
COMPLIANCE_PARALLEL_SPANS = env_int("COMPLIANCE_PARALLEL_SPANS", 2)
RETENTION_COMPLIANCE_DAYS = env_days("RETENTION_COMPLIANCE_DAYS", 400, 366, "R18.1: a year of compliance")
RETENTION_JOB_DAYS = env_days("RETENTION_JOB_DAYS", 90)  # the appliances' finished jobs (R12.2)
RETENTION_ALERT_DAYS = env_days("RETENTION_ALERT_DAYS", 400, 31, "R18.3: the monthly report reads a month of alerts")
RETENTION_ATTEMPT_DAYS = env_days("RETENTION_ATTEMPT_DAYS", 90)
# The bell, the alert list and the running jobs refresh themselves this often (htmx polling).
DASHBOARD_REFRESH_SECONDS = env_int("DASHBOARD_REFRESH_SECONDS", 30)
RETENTION_EVALUATION_DAYS = env_days("RETENTION_EVALUATION_DAYS", 30)
RETENTION_STORAGE_SAMPLE_DAYS = env_days("RETENTION_STORAGE_SAMPLE_DAYS", 400)  # the appliance page's storage chart
RETENTION_BACKGROUND_JOB_DAYS = env_days("RETENTION_BACKGROUND_JOB_DAYS", 30)
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 5000)  # rows per DELETE: short transactions, short locks

# R19.1: how often ticket statuses are read back from the PSA (a closed ticket dismisses its alert).
PSA_READBACK_SECONDS = env_int("PSA_READBACK_SECONDS", 300)
# Task modules outside an app's tasks.py.
CELERY_IMPORTS = ["notifications.psa_tasks"]

CELERY_BEAT_SCHEDULE = {
    # R14.1: every minute, by due time (alerts.evaluation.evaluate_due).
    "evaluate-all-accounts": {
        "task": "alerts.tasks.evaluate_all",
        "schedule": float(EVALUATION_INTERVAL_SECONDS),
    },
    # Invariant 3: re-send any due or lease-expired delivery.
    "sweep-outbox": {"task": "notifications.tasks.sweep", "schedule": float(SWEEP_INTERVAL_SECONDS)},
    # Issue 5: each registered Unitrends appliance syncs into inventory every 5 minutes.
    "sync-appliances": {"task": "integrations.appliance_sync.sync_all", "schedule": 300.0},
    # R14.1: Spanning daily statuses (new days only) and Datto clients/assets, hourly.
    "poll-saas": {"task": "integrations.saas_pollers.poll_saas", "schedule": 3600.0},
    # R19.1: PSA ticket statuses read back (and, once a day, the mapped companies checked, R19.2).
    "psa-read-back": {"task": "notifications.psa_tasks.read_back_all", "schedule": float(PSA_READBACK_SECONDS)},
    # Retention: old rows go once a day, at a quiet hour (UTC), in short batches.
    "prune-old-rows": {"task": "observability.tasks.prune", "schedule": crontab(minute=17, hour=3)},
    # R18.1, R18.3: hourly, each account's yesterday once it is past midnight in its zone, then its
    # digest at its hour and, on the first of the month, the monthly reports.
    "reports-hourly": {"task": "reports.tasks.hourly", "schedule": crontab(minute=5)},
    # The reports' outbox: re-send any due or lease-expired report email (invariant 3).
    "sweep-report-outbox": {"task": "reports.tasks.sweep", "schedule": float(SWEEP_INTERVAL_SECONDS)},
}

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenancy.permissions.IsMember"],
    "DEFAULT_PAGINATION_CLASS": "tenancy.pagination.CursorPage",
    # JSON refusing NUL anywhere (tenancy.parsers); forms as DRF's defaults.
    "DEFAULT_PARSER_CLASSES": [
        "tenancy.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["tenancy.filters.ScopedFilterBackend"],  # R1.4: filters scoped too
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tenancy.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "uniview API",
    "DESCRIPTION": "Backup alerting for managed service providers.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from our own static files: the portal needs no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Scripts speak JSON: documenting the form parsers too gives generated clients three bodies.
    "PARSER_WHITELIST": ["tenancy.parsers.JSONParser"],
    # One name per choice set, so a generated client gets one enum per meaning (docs/api.md).
    "ENUM_NAME_OVERRIDES": {
        "AlertKindEnum": "alerts.categories.KIND_CHOICES",
        "AlertStateEnum": "alerts.models.AlertState",
        "IntegrationKindEnum": "integrations.models.Integration.Kind",
        "TokenScopeEnum": "tenancy.models.TokenScope",
        "RequestableTokenScopeEnum": "tenancy.user_api.TOKEN_SCOPES",
    },
    # The error answers every operation can give, in one shared shape (tenancy/api_errors.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tenancy.api_errors.document_errors",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "observability.logs.JsonFormatter"},  # LOG_FORMAT=json: one object a line
    },
    "filters": {
        "context": {"()": "observability.logs.ContextFilter"},  # request and task ids
        "client_errors": {"()": "observability.logs.ClientErrorsWithoutTraceback"},  # a 403 is no traceback
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"],
                             "formatter": "json" if env_str("LOG_FORMAT") == "json" else "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["client_errors"]},
    },
}
