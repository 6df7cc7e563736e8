"""Renewing private certificates: through the sweep and the worker like ACME ones (server-side keys
re-keyed, CSR-based ones re-signed only when the profile allows, else marked needs_csr once), at once
on request, and from the holder's new CSR."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import RFC822Name
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateEvent, CertificateProfile, Job
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.profile_services import profile_update
from apps.certificates.pki.renewal import private_certificate_csr_renew, private_certificate_renew_now
from apps.certificates.services.issuance import certificate_issue
from apps.certificates.services.renewals import renewal_sweep
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl
from tests.pki.test_issuing import make_csr

pytestmark = pytest.mark.django_db


def _client_profile(*, resign: bool | None = None) -> CertificateProfile:
    profile = CertificateProfile.objects.get(authority__name="alpha", name="client")
    if resign is not None:
        profile = profile_update(profile=profile, allow_csr_resign=resign, actor=TEST_ACTOR)
    return profile


def _issue(name: str, *, csr_pem: str | None = None, days: int = 2) -> Certificate:
    request = PrivateRequest(profile=_client_profile(), name=name, subject={"common_name": name}, csr_pem=csr_pem,
                             days=days)  # fmt: skip
    return private_certificate_issue(request, actor=TEST_ACTOR)


def _public_key(pem: str) -> bytes:
    key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _sweep_and_work(certificate: Certificate) -> Certificate:
    """The sweep at a time the 2-day certificate is due (past mid-life), then its job run in-process."""
    sweep = renewal_sweep(now=timezone.now() + timedelta(days=1, hours=12), jitter_seconds=0)
    job = Job.objects.filter(certificate=certificate, sweep=sweep).first()
    if job is not None:
        assert certificate_issue(job_id=job.pk).status == "succeeded", job.error
    certificate.refresh_from_db()
    return certificate


def test_the_sweep_renews_a_server_side_key_with_a_new_key(tenant_a, hierarchy_a, tmp_path):
    with tenant_context(tenant_a):
        first = _issue("alice-laptop")
        old = first.current_version
        certificate = _sweep_and_work(first)
        new = certificate.current_version
        assert new.number == 2 and certificate.status == "active"
        assert _public_key(new.certificate_pem) != _public_key(old.certificate_pem)
        assert new.private_key and new.private_key != old.private_key
        assert new.authority.name == "alpha" and new.extended_key_usage == ["client_auth"]
        assert certificate.renew_at > timezone.now() + timedelta(hours=12)  # due again at the new mid-life
        assert CertificateEvent.objects.filter(certificate=certificate, kind="renewed").exists()
    (tmp_path / "leaf.pem").write_text(new.certificate_pem)
    assert (
        openssl("pkey", "-pubout", input_text=new.private_key).stdout
        == openssl("x509", "-noout", "-pubkey", "-in", str(tmp_path / "leaf.pem")).stdout
    )


def test_the_sweep_re_signs_a_csr_for_the_same_key_when_the_profile_allows(tenant_a, hierarchy_a):
    csr_pem, _ = make_csr("device-7", [RFC822Name("device-7@alpha.test")])
    with tenant_context(tenant_a):
        _client_profile(resign=True)
        first = _issue("device-7", csr_pem=csr_pem)
        old = first.current_version
        certificate = _sweep_and_work(first)
        new = certificate.current_version
        assert new.number == 2 and certificate.status == "active"
        assert _public_key(new.certificate_pem) == _public_key(old.certificate_pem)
        assert new.serial != old.serial and new.private_key == ""
        assert new.san == ["device-7@alpha.test"]


def test_a_csr_the_profile_does_not_re_sign_is_marked_needs_csr_once(tenant_a, hierarchy_a):
    csr_pem, _ = make_csr("device-8", [])
    with tenant_context(tenant_a):
        _client_profile(resign=False)
        certificate = _sweep_and_work(_issue("device-8", csr_pem=csr_pem))
        assert certificate.status == "needs_csr" and certificate.renew_at is None
        assert certificate.current_version.number == 1  # still served until it expires
        assert "send a new CSR" in certificate.last_error
        assert not certificate.jobs.filter(operation="renew").exists()
        event = CertificateEvent.objects.get(certificate=certificate, kind="renewal_failed")
        assert event.detail["code"] == "needs_csr"
        assert AuditEvent.objects.filter(action="certificate.needs_csr", object_name="device-8").count() == 1
        # The next sweeps leave it alone: not retried, not recorded again.
        assert renewal_sweep(now=timezone.now() + timedelta(days=1, hours=20), jitter_seconds=0).due == 0
        assert AuditEvent.objects.filter(action="certificate.needs_csr", object_name="device-8").count() == 1


def test_a_new_csr_renews_it_with_the_new_key(tenant_a, hierarchy_a):
    csr_pem, _ = make_csr("device-9", [])
    with tenant_context(tenant_a):
        certificate = _sweep_and_work(_issue("device-9", csr_pem=csr_pem))
        assert certificate.status == "needs_csr"
        new_csr, new_key = make_csr("device-9", [])
        version = private_certificate_csr_renew(certificate=certificate, csr_pem=new_csr, actor=TEST_ACTOR)
        certificate.refresh_from_db()
        assert (version.number, certificate.status, certificate.current_version_id) == (2, "active", version.pk)
        assert certificate.renew_at is not None and certificate.csr_pem == new_csr.strip() + "\n"
        expected = new_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert _public_key(version.certificate_pem) == expected
        assert version.subject.endswith("CN=device-9") or "device-9" in version.subject
        job = certificate.jobs.get(operation="renew")
        assert (job.status, job.version_id, job.forced) == ("succeeded", version.pk, True)
        renewed = AuditEvent.objects.get(action="certificate.renewal_requested", object_name="device-9")
        assert renewed.changes["new_csr"] is True


def test_a_bad_or_forbidden_new_csr_is_refused_before_anything_is_signed(tenant_a, hierarchy_a):
    csr_pem, _ = make_csr("device-10", [])
    with tenant_context(tenant_a):
        certificate = _issue("device-10", csr_pem=csr_pem)
        for bad in ("", "not a csr", csr_pem.replace("MI", "MX", 1)):
            with pytest.raises(ValidationError) as refused:
                private_certificate_csr_renew(certificate=certificate, csr_pem=bad, actor=TEST_ACTOR)
            assert refused.value.code == "invalid_csr"
        profile_update(profile=_client_profile(), allow_csr=False, actor=TEST_ACTOR)
        with pytest.raises(ValidationError, match="signs no CSRs"):
            private_certificate_csr_renew(certificate=certificate, csr_pem=make_csr("x", [])[0], actor=TEST_ACTOR)
        assert certificate.versions.count() == 1


def test_renew_now_signs_the_next_version_at_once(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        certificate = _issue("bob-phone", days=30)
        version = private_certificate_renew_now(certificate=certificate, actor=TEST_ACTOR)
        certificate.refresh_from_db()
        assert (version.number, certificate.current_version_id) == (2, version.pk)
        assert version.not_after - version.not_before >= timedelta(days=30)  # the validity asked for at first
        assert certificate.jobs.filter(operation="renew", status="succeeded", version=version).exists()
        assert AuditEvent.objects.filter(action="certificate.renewed", object_name="bob-phone").exists()


def test_renew_now_refuses_while_a_job_is_open_and_a_csr_it_may_not_re_sign(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        certificate = _issue("carol")
        Job.objects.create(certificate=certificate, operation="renew", status="queued", queued_at=timezone.now())
        with pytest.raises(ValidationError) as refused:
            private_certificate_renew_now(certificate=certificate, actor=TEST_ACTOR)
        assert refused.value.code == "job_open"
        csr_certificate = _issue("dave", csr_pem=make_csr("dave", [])[0])
        with pytest.raises(ValidationError) as refused:
            private_certificate_renew_now(certificate=csr_certificate, actor=TEST_ACTOR)
        assert refused.value.code == "needs_csr"
        assert certificate.versions.count() == csr_certificate.versions.count() == 1


def test_one_tenant_renewing_leaves_the_other_alone(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    with tenant_context(tenant_b):
        other = private_certificate_issue(
            PrivateRequest(profile=CertificateProfile.objects.get(authority__name="beta", name="client"),
                           name="erin", subject={"common_name": "erin"}, days=2),
            actor=TEST_ACTOR,
        )  # fmt: skip
    with tenant_context(tenant_a):
        _sweep_and_work(_issue("frank"))
        assert not Certificate.objects.filter(identifier="erin").exists()
    with tenant_context(tenant_b):
        assert Certificate.objects.get(pk=other.pk).current_version.number == 1
