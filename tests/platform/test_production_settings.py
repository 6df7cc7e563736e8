"""Production settings: HTTPS only (redirect, HSTS, secure cookies), `check --deploy` clean with the
minimum environment, and never debug pages."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.db import connection

from tests.conftest import TENANT_A
from tests.platform.test_settings import GOOD_PROD_ENV, ROOT, load_settings

# The minimum production environment, with a signing key as random as an operator's.
PROD_ENV = {**GOOD_PROD_ENV, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}


def manage(*argv: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CERTMATE_", "DATABASE_", "CELERY_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "certmate.settings.prod", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_minimum_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PROD_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_in_debug_mode():
    result = load_settings("certmate.settings.prod", **{**PROD_ENV, "DJANGO_DEBUG": "true"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG is on: production never runs in debug mode" in result.stderr


@pytest.mark.parametrize(
    ("module", "env"),
    [
        ("certmate.settings.test", {"DJANGO_DEBUG": "true"}),
        # `manage.py` and Celery default to the dev settings: debug only where `make run` asks for it.
        ("certmate.settings.dev", {}),
    ],
)
def test_debug_is_off_outside_make_run(module, env, tmp_path):
    # A database URL (never connected to) so that no embedded PostgreSQL starts for the settings.
    env = {**PROD_ENV, "CERTMATE_VAR_DIR": str(tmp_path), **env}
    result = load_settings(module, show="settings.DEBUG", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("env", "header"),
    [
        ({}, None),  # a client could send any header: trusted only when the operator names it
        ({"DJANGO_BEHIND_TLS_PROXY": "true"}, ["HTTP_X_FORWARDED_PROTO", "https"]),
        ({"DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Ssl: on"}, ["HTTP_X_FORWARDED_SSL", "on"]),
    ],
)
def test_the_proxy_header_is_trusted_only_when_configured(env, header):
    show = "__import__('json').dumps(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    result = load_settings("certmate.settings.prod", show=show, **PROD_ENV, **env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == header


def test_a_malformed_proxy_header_stops_start_up():
    result = load_settings("certmate.settings.prod", **PROD_ENV, DJANGO_SECURE_PROXY_SSL_HEADER="https")
    assert result.returncode != 0
    assert "DJANGO_SECURE_PROXY_SSL_HEADER='https': use 'Name: value'" in result.stderr


PROBE = """
import json, django
django.setup()
from django.test import Client, override_settings
# Static files without collectstatic's manifest, which this checkout has not built.
static = "django.contrib.staticfiles.storage.StaticFilesStorage"
override_settings(STORAGES={"staticfiles": {"BACKEND": static}}).enable()
host = {"host": "%(host)s"}
plain = Client().get("/admin/login/", headers=host)
health = Client().get("/api/health", headers=host)
pki = Client().get("/pki/nobody/crl.der", headers=host)
tls = Client().get("/admin/login/", headers=host, secure=True)
proxied = Client().get("/admin/login/", headers={**host, "x-forwarded-proto": "https"})
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "health": health.status_code,
    "pki": pki.status_code,
    "tls": [tls.status_code, tls.get("Strict-Transport-Security"), tls.cookies["csrftoken"]["secure"]],
    "proxied": proxied.status_code,
}))
"""


def test_production_serves_https_only(live_db):
    """A tenant's admin under the production settings, against the test database."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}/{db['NAME']}"
    env = {**PROD_ENV, "DATABASE_URL": url, "DJANGO_ALLOWED_HOSTS": TENANT_A["domain"]}
    result = load_settings("certmate.settings.prod", show="''", **env)
    assert result.returncode == 0, result.stderr
    probe = subprocess.run(
        [sys.executable, "-c", PROBE % {"host": TENANT_A["domain"]}],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "certmate.settings.prod", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, f"https://{TENANT_A['domain']}/admin/login/"]
    assert seen["health"] != 301  # load balancers check over plain HTTP
    assert seen["pki"] == 404  # relying parties fetch CRLs over plain HTTP: answered, not redirected
    assert seen["tls"] == [200, "max-age=31536000; includeSubDomains", True]
    assert seen["proxied"] == 301  # X-Forwarded-Proto from anyone is not trusted
