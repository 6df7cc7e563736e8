"""Through a real Celery worker: a restored tenant's certificates are published again from the database to
its storage target (the local filesystem here), under the new tenant's folder."""

from __future__ import annotations

import shutil
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from apps.accounts.services.tenants import tenant_delete
from certmate.audit.services import audit_verify
from tests.certificates.test_events_worker import wait_for
from tests.factories import certificate_make

pytestmark = pytest.mark.worker


def test_restored_tenant_is_published_again(worker, fresh_tenant, tmp_path):
    source = fresh_tenant(admin=True)
    restored = f"{source.schema_name}_copy"
    folders = [settings.CERTMATE_STORAGE_ROOT / slug for slug in (source.schema_name, restored)]
    archive = tmp_path / "source.backup"
    try:
        with tenant_context(source):
            version = certificate_make("restored.example.com").current_version
        call_command("tenant", "export", source.schema_name, str(archive), stdout=StringIO())
        call_command("tenant", "import", str(archive), "--slug", restored, stdout=StringIO())

        key = folders[1] / "server" / "restored.example.com" / "privkey.pem"
        wait_for(key.exists, "the restored tenant's certificate was not published again", worker)
        assert key.read_text() == version.private_key
        with tenant_context(Tenant.objects.get(schema_name=restored)):
            report = audit_verify()
        assert report.ok
    finally:
        if Tenant.objects.filter(schema_name=restored).exists():
            tenant_delete(slug=restored)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
