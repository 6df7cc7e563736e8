"""A certificate's page: its facts, its jobs followed live (queued -> running -> succeeded or failed
with the reason; the fragment stops polling and reloads the page), downloads in every format (keys
audited on the portal channel; PKCS#12 under a password), renew, revoke (a private CA's hold and its
lifting), auto-renew settings, delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateVersion, Job
from tests.factories import certificate_make
from tests.portal.certificates_helpers import events, jobs_of, private_certificate


@pytest.fixture
def served(tenant_a):
    with tenant_context(tenant_a):
        return certificate_make("www.example.com", san_domains=("shop.example.com",), renew_before_days=None)


@pytest.fixture
def private(tenant_a):
    return private_certificate(tenant_a)


def test_the_page_shows_the_certificates_facts(tenant_a, signed_in, served):
    response = signed_in(tenant_a, "viewer").get(f"/certificates/{served.pk}/")
    page = response.content.decode()
    version = served.current_version
    for fact in ("www.example.com, shop.example.com", version.fingerprint_sha256, version.serial, "EC 256",
                 "digital_signature", "server_auth", "days left", "ACME CA account le", "DNS account"):  # fmt: skip
        assert fact in page, fact
    assert len(response.context["chain"]) == 1 and response.context["chain"][0].subject in page  # the intermediate
    assert response.context["versions"][0].number == 1


def _set_job(tenant, job_pk: int, **fields) -> None:
    with tenant_context(tenant):
        Job.objects.filter(pk=job_pk).update(**fields)


def test_the_jobs_fragment_follows_a_job_until_it_ends_then_reloads_the_page(tenant_a, signed_in, served):
    client = signed_in(tenant_a, "viewer")
    with tenant_context(tenant_a):
        job = Job.objects.create(certificate=served, operation="renew", status="queued", progress="waiting for DNS")
    url = f"/certificates/{served.pk}/jobs/"
    polling = f'hx-get="{url}?watching=1" hx-trigger="every 2s"'
    assert polling in client.get(f"/certificates/{served.pk}/").content.decode()  # the page starts polling
    queued = client.get(f"{url}?watching=1", HTTP_HX_REQUEST="true")
    assert "<html" not in queued.content.decode() and 'data-state="queued"' in queued.content.decode()
    assert "waiting for DNS" in queued.content.decode() and polling in queued.content.decode()
    assert "HX-Refresh" not in queued
    _set_job(tenant_a, job.pk, status="running", started_at=timezone.now())
    running = client.get(f"{url}?watching=1", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-state="running"' in running and polling in running
    _set_job(tenant_a, job.pk, status="failed", finished_at=timezone.now(), error="DNS-01: no TXT record seen")
    failed = client.get(f"{url}?watching=1", HTTP_HX_REQUEST="true")
    assert failed["HX-Refresh"] == "true"  # the page reloads itself to show the outcome
    assert 'data-state="failed"' in failed.content.decode() and "hx-get" not in failed.content.decode()
    page = client.get(f"/certificates/{served.pk}/").content.decode()
    assert "DNS-01: no TXT record seen" in page and polling not in page
    assert "HX-Refresh" not in client.get(url, HTTP_HX_REQUEST="true")  # not watching: nothing to reload


def test_public_files_download_for_a_viewer_without_an_audit_event(tenant_a, signed_in, served):
    client = signed_in(tenant_a, "viewer")
    pem = client.get(f"/certificates/{served.pk}/download/cert.pem/")
    assert pem.status_code == 200 and pem["Content-Disposition"].endswith('www.example.com_cert.pem"')
    certificate = x509.load_pem_x509_certificate(pem.content)
    der = client.get(f"/certificates/{served.pk}/download/cert.der/")
    assert x509.load_der_x509_certificate(der.content) == certificate
    for name in ("chain.pem", "fullchain.pem", "ca.pem"):
        assert b"BEGIN CERTIFICATE" in client.get(f"/certificates/{served.pk}/download/{name}/").content
    assert client.get(f"/certificates/{served.pk}/download/privkey.pem/").status_code == 404
    assert client.get(f"/certificates/{served.pk}/download/cert.pem/?version=9").status_code == 404
    assert events(tenant_a, "private_key.downloaded") == []


def test_pkcs12_asks_for_a_password_and_loads_with_it_audited_on_the_portal(tenant_a, signed_in, served):
    client = signed_in(tenant_a, "operator")
    url = f"/certificates/{served.pk}/download/"
    refused = client.post(url, {"file": "cert.pfx", "password": ""})
    assert refused.status_code == 400 and "needs a password" in refused.context["form"].errors["password"][0]
    assert events(tenant_a, "private_key.downloaded") == []
    bundle = client.post(url, {"file": "cert.pfx", "password": "pass-Word-9", "encryption": "modern"})
    assert bundle.status_code == 200 and bundle["Content-Type"] == "application/x-pkcs12"
    assert bundle["Cache-Control"] == "no-store"
    key, certificate, chain = pkcs12.load_key_and_certificates(bundle.content, b"pass-Word-9")
    assert key is not None and certificate.fingerprint(certificate.signature_hash_algorithm)
    assert len(chain) == 1
    [event] = events(tenant_a, "private_key.downloaded")
    assert event.channel == "portal" and event.actor_name == client.user.email
    assert event.changes["format"] == "cert.pfx" and "pass-Word-9" not in str(event.changes)
    traditional = client.post(url, {"file": "privkey.pem", "key_format": "pkcs1"})
    assert traditional.content.startswith(b"-----BEGIN EC PRIVATE KEY-----")
    assert len(events(tenant_a, "private_key.downloaded")) == 2


def test_renewing_queues_a_job(tenant_a, signed_in, served, django_capture_on_commit_callbacks):
    client = signed_in(tenant_a, "operator")
    with django_capture_on_commit_callbacks(execute=False) as dispatched:
        response = client.post(f"/certificates/{served.pk}/renew/")
    assert response.status_code == 302 and len(dispatched) == 1
    job = jobs_of(tenant_a, served.pk)[-1]
    assert (job.operation, job.status, job.forced) == ("renew", "queued", True)
    assert f"renewal job {job.pk} queued" in client.get(response["Location"]).content.decode()


def test_revoking_an_acme_certificate_queues_its_revocation(tenant_a, signed_in, served):
    client = signed_in(tenant_a, "operator")
    form = client.get(f"/certificates/{served.pk}/revoke/").context["form"]
    assert "certificatehold" not in dict(form.fields["reason"].choices) and "invalidity_date" not in form.fields
    response = client.post(f"/certificates/{served.pk}/revoke/", {"reason": "keycompromise"})
    assert response.status_code == 302
    job = jobs_of(tenant_a, served.pk)[-1]
    assert (job.operation, job.status, job.revocation_reason) == ("revoke", "queued", "keycompromise")
    [event] = events(tenant_a, "certificate.revocation_requested")
    assert event.channel == "portal"


def test_a_private_certificate_is_held_then_released_then_revoked_with_an_invalidity_date(tenant_a, signed_in,
                                                                                           private):  # fmt: skip
    client = signed_in(tenant_a, "operator")
    url = f"/certificates/{private.pk}/revoke/"
    assert client.post(url, {"reason": "certificatehold"}).status_code == 302
    with tenant_context(tenant_a):
        version = CertificateVersion.objects.get(pk=private.current_version_id)
    assert version.revocation_reason == "certificatehold" and version.revoked_at
    page = client.get(f"/certificates/{private.pk}/").content.decode()
    assert "Lift the hold" in page
    assert client.post(f"/certificates/{private.pk}/versions/1/unhold/").status_code == 302
    with tenant_context(tenant_a):
        version.refresh_from_db()
    assert version.revoked_at is None
    future = client.post(url, {"reason": "keycompromise", "invalidity_date": "2999-01-01T00:00"})
    assert future.status_code == 400 and "is in the future" in future.context["form"].errors["invalidity_date"][0]
    since = (version.not_before + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, {"reason": "keycompromise", "invalidity_date": since}).status_code == 302
    with tenant_context(tenant_a):
        version.refresh_from_db()
    assert version.revocation_reason == "keycompromise" and version.invalidity_date is not None


def test_auto_renew_and_its_threshold_are_saved_through_the_service(tenant_a, signed_in, served):
    client = signed_in(tenant_a, "operator")
    response = client.post(f"/certificates/{served.pk}/settings/", {"renew_before_days": "10"})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(pk=served.pk)
    assert certificate.auto_renew is False and certificate.renew_before_days == 10
    [event] = events(tenant_a, "certificate.updated")
    assert event.channel == "portal" and event.changes["auto_renew"] == [True, False]
    refused = client.post(f"/certificates/{served.pk}/settings/", {"renew_before_days": "9999"}, follow=True)
    assert "Ensure this value is less than or equal to 365" in refused.content.decode()


def test_delete_asks_to_confirm_and_is_refused_while_a_job_runs(tenant_a, signed_in, served):
    client = signed_in(tenant_a, "operator")
    assert "cannot be undone" in client.get(f"/certificates/{served.pk}/delete/").content.decode()
    with tenant_context(tenant_a):
        job = Job.objects.create(certificate=served, operation="renew", status="running")
    refused = client.post(f"/certificates/{served.pk}/delete/", follow=True)
    assert f"job {job.pk} for www.example.com is running" in refused.content.decode()
    _set_job(tenant_a, job.pk, status="succeeded")
    response = client.post(f"/certificates/{served.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/certificates/"
    with tenant_context(tenant_a):
        assert not Certificate.objects.filter(pk=served.pk).exists()
    assert events(tenant_a, "certificate.deleted")[0].channel == "portal"
