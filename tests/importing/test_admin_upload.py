"""The tenant admin's upload of a CertMate backup: admins only, the report on the page, nothing written
in a dry run, and the import itself in the tenant it was uploaded to."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.services.users import user_create
from apps.certificates.models import Certificate
from certmate.actors import Actor
from tests.conftest import PASSWORD, TENANT_A, TENANT_B
from tests.importing.conftest import BACKUP

pytestmark = pytest.mark.django_db
URL = "/admin/importing/importedobject/upload/"


def _signed_in(client, tenant_spec, email):
    host = {"host": tenant_spec["domain"]}
    response = client.post("/admin/login/", {"username": email, "password": PASSWORD}, headers=host)
    assert response.status_code == 302
    return host


def _post(client, host, **fields):
    with BACKUP.open("rb") as backup:
        return client.post(URL, {"backup": backup, **fields}, headers=host)


def test_an_admin_uploads_a_backup_and_reads_the_report(client, tenant_a, tenant_b, tokens):
    host = _signed_in(client, TENANT_A, TENANT_A["admin_email"])
    response = _post(client, host, dry_run="on")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Dry run of backup-2.x.zip" in page and "certificates/alpha.test/archive/alpha.test/cert3.pem" in page
    with tenant_context(tenant_a):
        assert Certificate.objects.count() == 0

    response = _post(client, host, secret_key=tokens["secret_key"], users_domain="alpha.test")
    assert "Imported backup-2.x.zip" in response.content.decode()
    assert tokens["secret_key"] not in response.content.decode()
    with tenant_context(tenant_a):
        assert Certificate.objects.filter(identifier="alpha.test").get().versions.count() == 3
    with tenant_context(tenant_b):
        assert Certificate.objects.count() == 0


def test_only_admins_may_import(client, tenant_a):
    with tenant_context(tenant_a):
        user_create(email="op@alpha.test", password=PASSWORD, role="operator", actor=Actor.command())
    host = _signed_in(client, TENANT_A, "op@alpha.test")
    assert _post(client, host).status_code == 403
    with tenant_context(tenant_a):
        assert Certificate.objects.count() == 0


def test_a_file_that_is_not_a_zip_is_a_form_error(client, tenant_b, tmp_path):
    host = _signed_in(client, TENANT_B, TENANT_B["admin_email"])
    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip at all")
    with junk.open("rb") as upload:
        response = client.post(URL, {"backup": upload}, headers=host)
    assert response.status_code == 200
    assert "is not a readable zip file" in response.content.decode()
