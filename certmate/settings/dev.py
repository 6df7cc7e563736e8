"""Local development: `make run`. Embedded PostgreSQL unless DATABASE_URL is set; secrets under var/."""

import secrets

from cryptography.fernet import Fernet

from certmate.database import database_settings, embedded_database_url
from certmate.egress.rules import allow_from_env
from certmate.encryption import parse_keys
from certmate.env import env_bool, env_int, env_str, local_secret

from .base import *  # noqa: F403
from .base import CERTMATE_ENCRYPTION_KEYS, VAR_DIR

# Debug pages only under `make run` (certmate/devserver.py turns them on); manage.py and Celery with
# these settings run without them unless DJANGO_DEBUG says otherwise.
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or local_secret(VAR_DIR / "secret_key", lambda: secrets.token_urlsafe(50))
if not CERTMATE_ENCRYPTION_KEYS:
    CERTMATE_ENCRYPTION_KEYS = [local_secret(VAR_DIR / "encryption_key", lambda: Fernet.generate_key().decode())]
parse_keys(CERTMATE_ENCRYPTION_KEYS)

DATABASES = {
    "default": database_settings(
        env_str("DATABASE_URL") or embedded_database_url(VAR_DIR / "postgres"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}

# Password-reset mails (the portal) are printed by `make run` instead of sent, unless set.
EMAIL_BACKEND = env_str("CERTMATE_EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"

# Static files straight from the apps (no collectstatic needed outside production).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# `make run` on a laptop talks to services on loopback (a local Vault, Pebble): allow it unless set.
CERTMATE_EGRESS_ALLOW = allow_from_env(("127.0.0.0/8", "::1/128"))
