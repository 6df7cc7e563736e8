"""Settings come from the environment and fail loudly, naming the variable, on a bad value."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from certmate.encryption import parse_keys
from certmate.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]
GOOD_PROD_ENV = {
    "DJANGO_SECRET_KEY": "x" * 50,
    "CERTMATE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://certmate@db.internal:5432/certmate",
    "DJANGO_ALLOWED_HOSTS": ".certs.example.com",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
}


def load_settings(module: str, *, show: str = "settings.DATABASES['default']['ENGINE']", **env: str):
    """Start Django with these settings and only this environment; print ``show`` (an expression)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CERTMATE_", "DATABASE_", "CELERY_"))}
    code = f"import django; django.setup(); from django.conf import settings; print({show})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_starts_with_everything_set():
    result = load_settings("certmate.settings.prod", **GOOD_PROD_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django_tenants.postgresql_backend"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY must be set"),
        ("CERTMATE_ENCRYPTION_KEYS", "CERTMATE_ENCRYPTION_KEYS must be set"),
        ("DATABASE_URL", "DATABASE_URL must be set"),
        ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS must list the hosts"),
        ("CELERY_BROKER_URL", "CELERY_BROKER_URL must be set"),
    ],
)
def test_production_refuses_to_start_without(missing, message):
    env = {k: v for k, v in GOOD_PROD_ENV.items() if k != missing}
    result = load_settings("certmate.settings.prod", **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CERTMATE_ENCRYPTION_KEYS", "not-a-key", "key #1 is not a Fernet key"),
        ("CERTMATE_BACKUP_KEYS", "not-a-key", "CERTMATE_BACKUP_KEYS: key #1 is not a Fernet key"),
        ("DATABASE_URL", "mysql://root@localhost/certmate", "DATABASE_URL must point at PostgreSQL"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean"),
        ("DATABASE_CONN_MAX_AGE", "-5", "DATABASE_CONN_MAX_AGE=-5 is below its minimum of 0"),
        # A webroot root shared by every tenant: one could serve its tokens from another's folder.
        ("CERTMATE_WEBROOT_ROOTS", "/srv/acme/{tenant},/srv/www", "entry '/srv/www': use absolute folders with"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(variable, value, message):
    result = load_settings("certmate.settings.prod", **{**GOOD_PROD_ENV, variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_the_secret_key_is_never_printed_in_errors():
    key = Fernet.generate_key().decode()
    result = load_settings("certmate.settings.prod", **{**GOOD_PROD_ENV, "CERTMATE_ENCRYPTION_KEYS": f"{key},broken"})
    assert "key #2 is not a Fernet key" in result.stderr
    assert key not in result.stderr


def test_env_readers(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    monkeypatch.setenv("COUNT", "12")
    monkeypatch.setenv("HOSTS", " a.example , ,b.example ")
    assert env_bool("FLAG", False) is True
    assert env_bool("UNSET_FLAG", True) is True
    assert env_int("COUNT", 1, minimum=1) == 12
    assert env_list("HOSTS") == ["a.example", "b.example"]
    monkeypatch.setenv("COUNT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="COUNT='twelve' is not an integer"):
        env_int("COUNT", 1)


def test_several_keys_are_accepted_and_none_is_refused():
    assert len(parse_keys([Fernet.generate_key().decode(), Fernet.generate_key().decode()])) == 2
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        parse_keys([])


def test_each_shared_setting_is_set_in_one_place():
    """A setting assigned twice in base.py (or appended to further down) is one a reader finds half of: the
    second AUTHENTICATION_BACKENDS silently replaced the first."""
    tree = ast.parse((ROOT / "certmate/settings/base.py").read_text())
    places: dict[str, list[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            names = [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.attr in ("append", "extend", "insert", "remove", "pop", "update", "setdefault")
        ):
            names = [node.func.value.id]
        else:
            continue
        for name in names:
            if name.isupper():
                places.setdefault(name, []).append(node.lineno)
    assert {name: lines for name, lines in places.items() if len(lines) > 1} == {}
