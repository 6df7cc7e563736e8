"""Delegated OCSP responders: one per CA made on first need (one only, for requests arriving
together), audited; beat makes the next one before the current one expires and the responder then
signs with it; none outlives its CA; a CA whose certificate has expired answers ``unauthorized``."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509 import ocsp
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority, CertificateProfile, CertificateVersion, OcspResponder
from apps.certificates.pki.authorities import ca_import
from apps.certificates.pki.build import ca_certificate_build
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.keys import key_load
from apps.certificates.pki.ocsp import ocsp_respond
from apps.certificates.pki.ocsp_responders import (
    RENEW_BEFORE,
    ocsp_responder_ensure,
    ocsp_responders_renew,
    ocsp_responders_renew_all,
)
from apps.certificates.pki.ocsp_signers import signers_forget
from apps.certificates.pki.services import ca_hierarchy_create
from apps.certificates.services.schedule import schedule_install
from certmate.audit.models import AuditEvent
from tests.concurrency import run_together
from tests.factories import TEST_ACTOR


@pytest.fixture(autouse=True)
def _no_cached_signers():
    """Each test's CAs are its own (rolled back after): nothing cached by an earlier one is used."""
    signers_forget()
    yield
    signers_forget()


def _created_events(authority) -> int:
    return AuditEvent.objects.filter(action="ocsp_responder.created", object_id=str(authority.pk)).count()


def _request_der(authority: CertificateAuthority, serial: int = 12345) -> bytes:
    issuer = x509.load_pem_x509_certificate(authority.certificate_pem.encode())
    # A CertID for ``serial`` under ``issuer``: the issuer itself stands in for a leaf with that serial.
    builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        issuer_name_hash=_digest(issuer.subject.public_bytes()),
        issuer_key_hash=x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest,
        serial_number=serial,
        algorithm=hashes.SHA1(),  # noqa: S303 - what CertIDs use
    )
    return builder.build().public_bytes(serialization.Encoding.DER)


def _digest(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 - what CertIDs use
    digest.update(data)
    return digest.finalize()


def test_requests_arriving_together_make_one_responder(fresh_tenant):
    tenant = fresh_tenant()
    with tenant_context(tenant):
        _, ca = ca_hierarchy_create(name="gamma", common_name="Gamma CA", key_type="ec256", actor=TEST_ACTOR)

    def ensure():
        with tenant_context(tenant):
            return ocsp_responder_ensure(authority=ca, actor=TEST_ACTOR).pk

    made = run_together(ensure, 6)
    with tenant_context(tenant):
        assert OcspResponder.objects.filter(authority=ca).count() == 1
        assert set(made) == {OcspResponder.objects.get().pk}
        assert _created_events(ca) == 1


def test_beat_makes_the_next_responder_before_the_current_one_expires(tenant_a, hierarchy_a):
    root, ca = hierarchy_a
    with tenant_context(tenant_a):
        first = ocsp_responder_ensure(authority=ca, actor=TEST_ACTOR)
        assert ocsp_responders_renew() == 0  # a week left: nothing to do
        due = first.not_after - RENEW_BEFORE + timedelta(minutes=1)
        assert ocsp_responders_renew(now=due) == 1
        assert ocsp_responders_renew(now=due) == 0, "once"
        second = OcspResponder.objects.filter(authority=ca).order_by("-not_after").first()
        assert second.pk != first.pk and second.not_after > first.not_after
        assert second.private_key != first.private_key and second.serial != first.serial
        assert _created_events(ca) == 2
        assert not OcspResponder.objects.filter(authority=root).exists(), "a CA nobody asked about gets none"
        ocsp_responders_renew(now=first.not_after + timedelta(days=2))
        assert not OcspResponder.objects.filter(pk=first.pk).exists(), "expired ones go"


def test_the_responder_signs_with_the_next_certificate_once_the_current_nears_its_end(tenant_a, hierarchy_a):
    _, ca = hierarchy_a
    with tenant_context(tenant_a):
        first = ocsp.load_der_ocsp_response(ocsp_respond(_request_der(ca)).der)
        assert first.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
        current = OcspResponder.objects.get(authority=ca)
        assert ocsp.load_der_ocsp_response(ocsp_respond(_request_der(ca)).der).responder_key_hash == (
            first.responder_key_hash
        ), "the responder is kept (per process) while it is far from its end"
        ocsp_responders_renew(now=current.not_after - RENEW_BEFORE + timedelta(minutes=1))
        near_its_end = current.not_after - timedelta(minutes=30)
        second = ocsp.load_der_ocsp_response(ocsp_respond(_request_der(ca), now=near_its_end).der)
    assert second.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert second.responder_key_hash != first.responder_key_hash
    assert second.certificates[0].not_valid_after_utc > first.certificates[0].not_valid_after_utc


def test_no_responder_outlives_its_ca_and_an_expired_ca_answers_unauthorized(tenant_a):
    with tenant_context(tenant_a):
        _, ca = ca_hierarchy_create(
            name="brief", common_name="Brief CA", key_type="ec256", intermediate_days=2, actor=TEST_ACTOR
        )
        responder = ocsp_responder_ensure(authority=ca, actor=TEST_ACTOR)
        assert responder.not_after == ca.not_after
        assert ocsp_responders_renew() == 0 and ocsp_responders_renew() == 0, "no new one on every beat"
        assert OcspResponder.objects.filter(authority=ca).count() == 1
        later = ca.not_after + timedelta(hours=1)
        refused = ocsp_respond(_request_der(ca), now=later)
    assert ocsp.load_der_ocsp_response(refused.der).response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize("key_type", ["rsa2048", "ed25519", "ec384"])
def test_the_responder_key_follows_the_ca_family(tenant_a, key_type):
    with tenant_context(tenant_a):
        _, ca = ca_hierarchy_create(name=f"k-{key_type}", common_name="K CA", key_type=key_type, actor=TEST_ACTOR)
        answer = ocsp.load_der_ocsp_response(ocsp_respond(_request_der(ca)).der)
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    key = answer.certificates[0].public_key()
    expected = {"rsa2048": rsa.RSAPublicKey, "ed25519": ed25519.Ed25519PublicKey, "ec384": ec.EllipticCurvePublicKey}
    assert isinstance(key, expected[key_type])
    if key_type != "ed25519":
        assert key.key_size == {"rsa2048": 2048, "ec384": 256}[key_type]  # the size that signs fastest


def test_every_tenants_responders_are_renewed_and_beat_knows_it(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    for tenant, (_, ca) in ((tenant_a, hierarchy_a), (tenant_b, hierarchy_b)):
        with tenant_context(tenant):
            ocsp_responder_ensure(authority=ca, actor=TEST_ACTOR)
    made = ocsp_responders_renew_all(now=timezone.now() + timedelta(days=5))
    assert made["alpha"] == 1 and made["beta"] == 1
    tasks = {task.name: task for task in schedule_install()}
    renewal = tasks["certmate: OCSP responder renewal"]
    assert renewal.task == "apps.certificates.tasks.ocsp_responders_renew_all_task"
    assert renewal.interval.every * 4 <= RENEW_BEFORE.total_seconds()  # several chances before the end


@pytest.mark.worker
def test_beats_renewal_task_reaches_every_tenant_through_a_worker(fresh_tenant, worker):
    """What beat sends (from the public schema) renews, in each tenant's schema, the responders that
    near their end."""
    from apps.certificates.tasks import ocsp_responders_renew_all_task

    cas = {}
    for tenant in (fresh_tenant(), fresh_tenant()):
        with tenant_context(tenant):
            _, ca = ca_hierarchy_create(name="fan", common_name="Fan CA", key_type="ec256", actor=TEST_ACTOR)
            old = ocsp_responder_ensure(authority=ca, actor=TEST_ACTOR)
            OcspResponder.objects.filter(pk=old.pk).update(not_after=timezone.now() + timedelta(days=1))
        cas[tenant] = ca
    ocsp_responders_renew_all_task.delay()
    deadline = time.monotonic() + 60
    for tenant, ca in cas.items():
        with tenant_context(tenant):
            while OcspResponder.objects.filter(authority=ca).count() < 2:
                assert time.monotonic() < deadline, worker.log_text()[-2000:]
                time.sleep(0.2)
            newest = OcspResponder.objects.filter(authority=ca).order_by("-not_after").first()
            assert newest.not_after > timezone.now() + timedelta(days=6)


def _leaf_request(version, issuer_pem: str) -> bytes:
    leaf = x509.load_pem_x509_certificate(version.certificate_pem.encode())
    issuer = x509.load_pem_x509_certificate(issuer_pem.encode())
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA256()).build()
    return request.public_bytes(serialization.Encoding.DER)


def _issue(ca, name: str):
    profile = CertificateProfile.objects.get(authority=ca, name="client")
    request = PrivateRequest(profile=profile, name=name, subject={"common_name": name})
    return private_certificate_issue(request, actor=TEST_ACTOR).current_version


def test_twins_sharing_a_name_and_key_answer_for_each_others_certificates(tenant_a, hierarchy_a):
    """A CA certified again for the same key (imported beside the first) is named by the same CertID:
    each of their certificates is answered, whichever CA row signed it."""
    root, ca = hierarchy_a
    with tenant_context(tenant_a):
        root_row = CertificateAuthority.objects.get(pk=root.pk)
        ca_row = CertificateAuthority.objects.get(pk=ca.pk)
        again = ca_certificate_build(
            subject=x509.load_pem_x509_certificate(ca_row.certificate_pem.encode()).subject,
            key=key_load(ca_row.private_key), days=30, path_length=0,
            issuer=x509.load_pem_x509_certificate(root_row.certificate_pem.encode()),
            issuer_key=key_load(root_row.private_key),
        )  # fmt: skip
        twin = ca_import(
            name="alpha-again", certificate_pem=again.public_bytes(serialization.Encoding.PEM).decode(),
            private_key_pem=ca_row.private_key, chain_pem=root_row.certificate_pem, actor=TEST_ACTOR,
        )  # fmt: skip
        first, second = _issue(ca_row, "first"), _issue(twin, "second")
        revoked = {"revoked_at": timezone.now(), "revocation_reason": "superseded"}
        CertificateVersion.objects.filter(pk=second.pk).update(**revoked)
        answers = [
            ocsp.load_der_ocsp_response(ocsp_respond(_leaf_request(version, pem)).der)
            for version in (first, second)
            for pem in (ca_row.certificate_pem, twin.certificate_pem)
        ]
    statuses = [answer.certificate_status for answer in answers]
    good, revoked = ocsp.OCSPCertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED
    assert statuses == [good, good, revoked, revoked]
    assert answers[2].revocation_reason is x509.ReasonFlags.superseded


def test_a_ca_deleted_since_its_tenants_cas_were_read_is_unauthorized(tenant_a, hierarchy_a):
    _, ca = hierarchy_a
    with tenant_context(tenant_a):
        _, gone = ca_hierarchy_create(name="gone", common_name="Gone CA", key_type="ec256", actor=TEST_ACTOR)
        assert ocsp.load_der_ocsp_response(ocsp_respond(_request_der(ca)).der).response_status is (
            ocsp.OCSPResponseStatus.SUCCESSFUL
        )  # the tenant's CAs, gone among them, are read now
        request = _request_der(gone)
        CertificateAuthority.objects.filter(pk=gone.pk).delete()
        refused = ocsp.load_der_ocsp_response(ocsp_respond(request).der)
    assert refused.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED
