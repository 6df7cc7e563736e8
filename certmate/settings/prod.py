"""Production: everything secret comes from the environment, and nothing starts without it."""

import re

from django.core.exceptions import ImproperlyConfigured

from certmate.database import database_settings
from certmate.encryption import parse_keys
from certmate.env import env_bool, env_int, env_list, env_str

from .base import *  # noqa: F403
from .base import CERTMATE_ENCRYPTION_KEYS

# Debug pages show code, settings and request data to whoever triggers an error: never in production.
if env_bool("DJANGO_DEBUG", False):
    raise ImproperlyConfigured("DJANGO_DEBUG is on: production never runs in debug mode (use `make run` to develop)")
DEBUG = False

SECRET_KEY = env_str("DJANGO_SECRET_KEY") or ""
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random value of at least 32 characters")
if not CERTMATE_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("CERTMATE_ENCRYPTION_KEYS must be set: certmate refuses to store secrets unencrypted")
parse_keys(CERTMATE_ENCRYPTION_KEYS)

_database_url = env_str("DATABASE_URL")
if not _database_url:
    raise ImproperlyConfigured("DATABASE_URL must be set to the PostgreSQL server (postgres://user:pass@host:5432/db)")
DATABASES = {"default": database_settings(_database_url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))}

if not env_str("CELERY_BROKER_URL"):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL must be set (e.g. redis://redis:6379/0): the filesystem broker only works on one machine"
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the hosts certmate serves (e.g. .certs.example.com)")

# --- HTTPS -----------------------------------------------------------------------------------------
# certmate is served over TLS: plain HTTP is redirected (except the health check, which load balancers
# and the compose file call on the container's HTTP port), cookies go only over TLS, and browsers are
# told to use nothing else (HSTS). Behind a proxy that terminates TLS, name the header it sets for the
# original scheme, e.g. DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https" (or the shorthand
# DJANGO_BEHIND_TLS_PROXY=true for exactly that one): it is trusted only when set, since any client can
# send it, so the proxy must overwrite it.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# The private CAs' CRLs, certificates and OCSP (/pki/...) are signed and public: relying parties fetch them
# over plain HTTP as RFC 5280 intends (a CDP over https can need the very revocation check it serves).
SECURE_REDIRECT_EXEMPT = [r"^api/health$", r"^health(/live|/ready)?$", r"^pki/"]
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
# Subdomains: tenants are usually served as <slug>.<platform domain>; turn it off when the platform's
# host is a domain whose other subdomains are not all served over HTTPS.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is a commitment for the whole domain (anyone may submit a domain whose header asks for
# it), so the operator opts in; check --deploy's reminder about it is silenced until then.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
_proxy_header = env_str("DJANGO_SECURE_PROXY_SSL_HEADER") or (
    "X-Forwarded-Proto: https" if env_bool("DJANGO_BEHIND_TLS_PROXY", False) else ""
)
if _proxy_header:
    _name, _, _value = _proxy_header.partition(":")
    if not re.fullmatch(r"[A-Za-z0-9-]+", _name.strip()) or not _value.strip():
        raise ImproperlyConfigured(
            f"DJANGO_SECURE_PROXY_SSL_HEADER={_proxy_header!r}: use 'Name: value', e.g. 'X-Forwarded-Proto: https'"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
