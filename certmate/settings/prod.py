"""Production: everything secret comes from the environment, and nothing starts without it."""

from django.core.exceptions import ImproperlyConfigured

from certmate.database import database_settings
from certmate.encryption import parse_keys
from certmate.env import env_bool, env_int, env_list, env_str

from .base import *  # noqa: F403
from .base import CERTMATE_ENCRYPTION_KEYS

DEBUG = env_bool("DJANGO_DEBUG", False)

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

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
