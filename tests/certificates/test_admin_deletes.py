"""Deleting in the tenant admin: a certificate goes through its delete service (its published private key
is withdrawn, single and bulk), and the records certmate writes (jobs, sweeps) are never deleted by
hand."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, Job
from apps.storage.services import publication_publish, publication_request
from certmate.celery import app as celery_app
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import issued_version

HOST = {"host": TENANT_A["domain"]}


@pytest.fixture
def root(tmp_path, settings, monkeypatch):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    return settings.CERTMATE_STORAGE_ROOT


@pytest.fixture
def admin_client(client, tenant_a):
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302
    return client


def _published(tenant, identifier: str, capture) -> Certificate:
    with tenant_context(tenant), capture(execute=False):
        version = issued_version(identifier)
        publication_publish(publication_id=publication_request(version=version).pk)
        Job.objects.create(certificate=version.certificate, operation="issue", status="succeeded")
        return version.certificate


def test_admin_delete_withdraws_the_published_key(
    admin_client, tenant_a, tenant_b, root, django_capture_on_commit_callbacks
):
    certificate = _published(tenant_a, "gone.alpha.test", django_capture_on_commit_callbacks)
    _published(tenant_b, "gone.alpha.test", django_capture_on_commit_callbacks)
    key = root / "alpha/server/gone.alpha.test/privkey.pem"
    assert key.exists()
    page = admin_client.get(f"/admin/certificates/certificate/{certificate.pk}/delete/", headers=HOST)
    assert page.status_code == 200 and "Are you sure" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/certificates/certificate/{certificate.pk}/delete/", {"post": "yes"}, headers=HOST
        )
    assert response.status_code == 302
    assert not key.exists()
    assert (root / "beta/server/gone.alpha.test/privkey.pem").exists()  # the other tenant's stays
    with tenant_context(tenant_b):
        assert Certificate.objects.filter(identifier="gone.alpha.test").exists()


def test_admin_bulk_delete_withdraws_every_published_key(
    admin_client, tenant_a, root, django_capture_on_commit_callbacks
):
    certificates = [
        _published(tenant_a, name, django_capture_on_commit_callbacks) for name in ("a.alpha.test", "b.alpha.test")
    ]
    form = {"action": "delete_selected", "_selected_action": [c.pk for c in certificates], "post": "yes"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/certificates/certificate/", form, headers=HOST)
    assert response.status_code == 302
    for name in ("a.alpha.test", "b.alpha.test"):
        assert not (root / f"alpha/server/{name}/privkey.pem").exists()
    with tenant_context(tenant_a):
        assert not Certificate.objects.exists()


# Private-key downloads are audit events now: append-only in the database (tests/audit).
@pytest.mark.parametrize("model", ["job", "renewalsweep"])
def test_nobody_deletes_records_in_the_admin(admin_client, tenant_a, root, model, django_capture_on_commit_callbacks):
    certificate = _published(tenant_a, "kept.alpha.test", django_capture_on_commit_callbacks)
    with tenant_context(tenant_a):
        job = Job.objects.filter(certificate=certificate).first()
    if model == "job":
        page = admin_client.get(f"/admin/certificates/job/{job.pk}/delete/", headers=HOST)
        assert page.status_code == 403
        posted = admin_client.post(f"/admin/certificates/job/{job.pk}/delete/", {"post": "yes"}, headers=HOST)
        assert posted.status_code == 403
        bulk = {"action": "delete_selected", "_selected_action": [job.pk], "post": "yes"}
        admin_client.post("/admin/certificates/job/", bulk, headers=HOST)
        with tenant_context(tenant_a):
            assert Job.objects.filter(pk=job.pk).exists()
    listing = admin_client.get(f"/admin/certificates/{model}/", headers=HOST).content.decode()
    assert "delete_selected" not in listing
