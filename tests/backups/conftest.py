"""Backup fixtures: a tenant A full of what a backup must carry, archives written to memory, and the API
fixtures of tests/api."""

from __future__ import annotations

import io

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.accounts.services.tokens import token_create
from apps.backups.services import tenant_export
from apps.certificates.pki.services import ca_hierarchy_create
from tests.api.conftest import _fresh_throttles, anon_client, api_client, api_user  # noqa: F401 - fixtures used here too
from tests.factories import TEST_ACTOR, certificate_make
from tests.testapp.models import Vault

PASSPHRASE = "a long enough passphrase"


@pytest.fixture(autouse=True)
def _backup_dir(settings, tmp_path):
    """Kept archives of this test only (the folder outlives the test's transaction otherwise)."""
    settings.CERTMATE_BACKUP_DIR = tmp_path / "backups"


@pytest.fixture
def filled_a(tenant_a):
    """Tenant A with two certificates (three versions), a private CA, CA and DNS accounts with secrets, a
    secret of the test app, an API token (its text returned) and the audit events all that recorded."""
    with tenant_context(tenant_a):
        certificate_make("www.alpha.test", versions=2)
        certificate_make("api.alpha.test", san_domains=("api2.alpha.test",))
        ca_hierarchy_create(name="alpha", common_name="Alpha CA", key_type="ec256", actor=TEST_ACTOR)
        Vault.objects.create(name="vault", secret="the secret of alpha")
        admin = User.objects.get(email="admin@alpha.test")
        _, raw = token_create(user=admin, role="admin", name="backup test", actor=TEST_ACTOR)
    return raw


def export_of(tenant, *, passphrase: str | None = PASSPHRASE) -> bytes:
    sink = io.BytesIO()
    with tenant_context(tenant):
        tenant_export(sink=sink, passphrase=passphrase, actor=TEST_ACTOR)
    return sink.getvalue()
