"""The real CertMate 2.x fixture (tests/fixtures/certmate, made by running CertMate against Pebble and
BIND9) and helpers to import it into a tenant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from apps.importing.services.certmate import certmate_import
from certmate.actors import Actor

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "certmate"
DATA = FIXTURE / "data-2.x"
BACKUP = FIXTURE / "backup-2.x.zip"
ACTOR = Actor.command(name="import_certmate")


@pytest.fixture(scope="session")
def tokens() -> dict:
    """What CertMate handed out while the fixture was made: raw tokens, passwords, secrets."""
    return json.loads((FIXTURE / "tokens.json").read_text())


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A copy of the data folder that a test may damage (symlinks kept as links)."""
    target = tmp_path / "certmate"
    shutil.copytree(DATA, target, symlinks=True)
    return target


def run_import(tenant, path: Path = DATA, **options):
    with tenant_context(tenant):
        return certmate_import(path=path, actor=ACTOR, **options)
