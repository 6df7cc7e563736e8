"""Tests: `make test`. Embedded PostgreSQL unless DATABASE_URL is set; fixed keys; fast hashing."""

import re

from django.core.exceptions import ImproperlyConfigured

from certmate.database import database_settings, embedded_database_url
from certmate.egress.rules import allow_from_env
from certmate.env import env_str

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, SHARED_APPS, TENANT_APPS, VAR_DIR, filesystem_broker_options

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-any-deployment-0123456789"
# Test-only keys. The second one exists so rotation can be tested by reordering them.
CERTMATE_ENCRYPTION_KEYS = [
    "dGVzdC1vbmx5LWtleS1udW1iZXItb25lLS0tLS0tLS0=",
    "dGVzdC1vbmx5LWtleS1udW1iZXItdHdvLS0tLS0tLS0=",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = [".test", "localhost", ".localhost", "127.0.0.1", "testserver"]

# A tenant app used only by the tests: a model with a secret, and a task that records its schema.
TENANT_APPS = [*TENANT_APPS, "tests.testapp"]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

DATABASES = {"default": database_settings(env_str("DATABASE_URL") or embedded_database_url(VAR_DIR / "postgres"))}
# `make test` runs tests/e2e in a second pytest process: against one DATABASE_URL server, each process
# needs a test database of its own.
_TEST_DATABASE_SUFFIX = env_str("CERTMATE_TEST_DATABASE_SUFFIX") or ""
if not re.fullmatch(r"[a-z0-9_]{0,20}", _TEST_DATABASE_SUFFIX):
    raise ImproperlyConfigured("CERTMATE_TEST_DATABASE_SUFFIX may hold a-z, 0-9 and _ only (20 at most)")
DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}{_TEST_DATABASE_SUFFIX}"}

# Tests and the worker processes they start share this folder (or CELERY_BROKER_URL's server).
CERTMATE_BROKER_DIR = VAR_DIR / "broker-test"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(CERTMATE_BROKER_DIR)

# Static files straight from the apps (no collectstatic needed outside production).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Published material of the tests' tenants (worker processes included), apart from `make run`'s.
CERTMATE_STORAGE_ROOT = VAR_DIR / "certificates-test"

# The tests' own servers (Pebble, BIND9, OpenBao, moto_server, the Azure and Infisical fakes) listen on
# loopback: allow it unless the environment says otherwise (the egress tests set it empty).
CERTMATE_EGRESS_ALLOW = allow_from_env(("127.0.0.0/8", "::1/128"))

# Archives kept for the tests' tenants, apart from `make run`'s.
CERTMATE_BACKUP_DIR = VAR_DIR / "backups-test"
