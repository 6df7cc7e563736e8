"""The OCSP responder with a real client: ``openssl ocsp`` asks certmate on a real port (POST, and GET
fetched here and checked by openssl), with and without a nonce, in SHA-1 and SHA-256/384/512 CertIDs,
and verifies each answer against the root alone; tenants never answer for each other's CAs."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from apps.certificates.models import CertificateAuthority, CertificateProfile, CertificateVersion
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.ocsp_signers import signers_forget
from apps.certificates.pki.ocsp_views import ocsp_hosts_forget
from certmate.audit.models import AuditEvent
from tests.conftest import TENANT_A
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl
from tests.pki.ocsp_support import OCSP_REQUEST, http_call, ocsp_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    with ocsp_world(django_db_blocker, tmp_path_factory.mktemp("ocsp")) as running:
        yield running


STATUS_LINE = re.compile(r"^(?P<file>\S+): (?P<status>good|revoked|unknown)$", re.MULTILINE)


def ask(pki, port, *arguments: str, issuer=None, host=None, anchor=None):
    """``openssl ocsp`` POSTing to certmate as ``host`` (default: the tenant's own), verifying the
    answer with the root alone: its output (stdout and stderr)."""
    done = openssl(
        "ocsp", "-issuer", str(issuer or pki.ca), "-url", f"http://127.0.0.1:{port}/pki/ocsp",
        "-header", f"Host={host or pki.host}", "-CAfile", str(anchor or pki.root), "-timeout", "10", *arguments,
        check=False,
    )  # fmt: skip
    return done.stdout + done.stderr


def statuses(output: str) -> list[str]:
    return [match["status"] for match in STATUS_LINE.finditer(output)]


@pytest.mark.parametrize("nonce", [[], ["-no_nonce"]], ids=["nonce", "no-nonce"])
def test_openssl_hears_good_and_revoked_with_the_reason_over_post(world, nonce):
    alpha, _, port = world
    output = ask(alpha, port, *nonce, "-cert", str(alpha.files["alice"]))
    assert statuses(output) == ["good"], output
    assert "Response verify OK" in output
    assert ("WARNING: no nonce in response" in output) is False
    revoked = ask(alpha, port, *nonce, "-cert", str(alpha.files["bob"]))
    assert statuses(revoked) == ["revoked"] and "Response verify OK" in revoked, revoked
    assert "Reason: keyCompromise" in revoked and "Revocation Time:" in revoked
    held = ask(alpha, port, *nonce, "-cert", str(alpha.files["carol"]))
    assert statuses(held) == ["revoked"] and "Reason: certificateHold" in held, held


def test_the_nonce_is_echoed_and_the_answer_valid_for_an_hour(world):
    alpha, _, port = world
    output = ask(alpha, port, "-cert", str(alpha.files["alice"]), "-resp_text")
    request_nonce = re.search(r"OCSP Nonce: \n\s+(\w+)", output)
    assert request_nonce and "Response verify OK" in output  # openssl checks the echo itself
    this_update = re.search(r"This Update: (.+)", output)[1]
    next_update = re.search(r"Next Update: (.+)", output)[1]
    parse = "%b %d %H:%M:%S %Y GMT"
    from datetime import datetime

    validity = datetime.strptime(" ".join(next_update.split()), parse) - datetime.strptime(
        " ".join(this_update.split()), parse
    )
    assert validity == timedelta(hours=1)


def test_a_serial_the_ca_never_issued_is_unknown(world):
    alpha, beta, port = world
    output = ask(alpha, port, "-serial", "0x1234567890abcdef")
    assert statuses(output) == ["unknown"] and "Response verify OK" in output, output
    # beta's alice, asked as if alpha had issued her serial: alpha never did
    serial = "0x" + beta.versions["alice"].serial
    assert statuses(ask(alpha, port, "-serial", serial)) == ["unknown"]


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha384", "sha512"])
def test_the_request_hash_algorithm_is_answered_in_kind(world, digest):
    alpha, _, port = world
    output = ask(alpha, port, f"-{digest}", "-cert", str(alpha.files["bob"]), "-resp_text")
    assert statuses(output) == ["revoked"] and "Response verify OK" in output, output
    # The response's CertID, in the request's algorithm (openssl found its status by that CertID).
    assert f"Hash Algorithm: {digest}" in output


def _get_url(der: bytes, *, escaped: bool) -> str:
    encoded = base64.b64encode(der).decode()
    return "/pki/ocsp/" + (quote(encoded, safe="") if escaped else encoded)


@pytest.mark.parametrize("escaped", [True, False], ids=["url-escaped", "raw-base64"])
@pytest.mark.parametrize("nonce", [[], ["-no_nonce"]], ids=["nonce", "no-nonce"])
def test_get_requests_are_answered_with_cache_headers(world, tmp_path, escaped, nonce):
    alpha, _, port = world
    for name, expected in (("alice", "good"), ("bob", "revoked")):
        request = tmp_path / f"{name}.req"
        openssl("ocsp", "-issuer", str(alpha.ca), "-cert", str(alpha.files[name]), *nonce, "-reqout", str(request))
        status, headers, body = http_call(port, alpha.host, "GET", _get_url(request.read_bytes(), escaped=escaped))
        assert status == 200 and headers["Content-Type"] == "application/ocsp-response"
        max_age = int(re.search(r"max-age=(\d+)", headers["Cache-Control"])[1])
        assert 3500 <= max_age <= 3600 and "public" in headers["Cache-Control"]
        assert headers["ETag"] and headers["Expires"] and headers["Last-Modified"]
        response = tmp_path / f"{name}.resp"
        response.write_bytes(body)
        # openssl checks the answer read back (the nonce below: with -cert it would make a new request)
        done = openssl(
            "ocsp", "-respin", str(response), "-issuer", str(alpha.ca), "-cert", str(alpha.files[name]),
            "-CAfile", str(alpha.root), "-no_nonce", check=False,
        )  # fmt: skip
        output = done.stdout + done.stderr
        assert statuses(output) == [expected] and "Response verify OK" in output, output
        assert _nonce(ocsp.load_der_ocsp_response(body)) == _nonce(ocsp.load_der_ocsp_request(request.read_bytes()))
        assert (_nonce(ocsp.load_der_ocsp_response(body)) is None) == bool(nonce)


def _nonce(message) -> bytes | None:
    try:
        return message.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def test_a_signed_request_is_answered(world, tmp_path):
    alpha, _, port = world
    key = tmp_path / "alice.key"
    with tenant_context(alpha.tenant):
        key.write_text(alpha.versions["alice"].__class__.objects.get(pk=alpha.versions["alice"].pk).private_key)
    output = ask(
        alpha, port, "-cert", str(alpha.files["alice"]), "-signer", str(alpha.files["alice"]), "-signkey", str(key)
    )
    assert statuses(output) == ["good"] and "Response verify OK" in output, output


def test_a_tenant_never_answers_for_another_tenants_ca(world):
    alpha, beta, port = world
    # beta's CA and certificate, asked at alpha's host: not alpha's to answer, whatever the serial
    for name in ("alice", "bob"):
        output = ask(beta, port, "-cert", str(beta.files[name]), host=alpha.host)
        assert "Responder Error: unauthorized (6)" in output, output
        assert statuses(output) == []
    # and alpha's revoked bob at beta's host
    output = ask(alpha, port, "-cert", str(alpha.files["bob"]), host=beta.host)
    assert "Responder Error: unauthorized (6)" in output and "revoked" not in output, output
    # each on its own host
    assert statuses(ask(beta, port, "-cert", str(beta.files["bob"]))) == ["good"]


def test_the_root_answers_for_its_intermediate(world):
    alpha, _, port = world
    output = ask(alpha, port, "-cert", str(alpha.ca), issuer=alpha.root)
    assert statuses(output) == ["good"] and "Response verify OK" in output, output
    with tenant_context(alpha.tenant):
        CertificateAuthority.objects.filter(pk=alpha.authority_id).update(
            revoked_at=timezone.now(), revocation_reason="cacompromise"
        )
    try:
        output = ask(alpha, port, "-cert", str(alpha.ca), issuer=alpha.root)
        assert statuses(output) == ["revoked"] and "Reason: cACompromise" in output, output
    finally:
        with tenant_context(alpha.tenant):
            CertificateAuthority.objects.filter(pk=alpha.authority_id).update(revoked_at=None, revocation_reason="")


def _response(port, pki, name: str) -> ocsp.OCSPResponse:
    leaf = x509.load_pem_x509_certificate(pki.files[name].read_bytes())
    issuer = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA256()).build()
    status, _, body = http_call(port, pki.host, "POST", "/pki/ocsp", request.public_bytes(serialization.Encoding.DER))
    assert status == 200
    return ocsp.load_der_ocsp_response(body)


def test_answers_are_signed_by_a_delegated_responder_not_the_ca_key(world, tmp_path):
    alpha, _, port = world
    answer = _response(port, alpha, "alice")
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    responder, ca_certificate = answer.certificates
    ca = x509.load_pem_x509_certificate(alpha.ca.read_bytes())
    assert ca_certificate == ca
    # The response is signed by the responder's key (identified by its hash), not by the CA's.
    signed_with = ec.ECDSA(answer.signature_hash_algorithm)
    responder.public_key().verify(answer.signature, answer.tbs_response_bytes, signed_with)
    assert answer.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(responder.public_key()).digest
    assert answer.responder_key_hash != x509.SubjectKeyIdentifier.from_public_key(ca.public_key()).digest
    assert isinstance(responder.public_key(), ec.EllipticCurvePublicKey) and responder.public_key().key_size == 256
    # What RFC 6960 4.2.2.2 asks of a delegated responder's certificate.
    assert responder.issuer == ca.subject
    extensions = responder.extensions
    assert extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.OCSP_SIGNING]
    )
    extensions.get_extension_for_class(x509.OCSPNoCheck)
    usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    aki = extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert responder.not_valid_after_utc - responder.not_valid_before_utc <= timedelta(days=7, minutes=5)
    files = tmp_path / "responder.pem"
    files.write_bytes(responder.public_bytes(serialization.Encoding.PEM))
    verified = openssl(
        "verify", "-CAfile", str(alpha.root), "-untrusted", str(alpha.ca), "-purpose", "ocsphelper", str(files),
        check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    # The CA's key made one responder, recorded in the audit log (its key never in it).
    with tenant_context(alpha.tenant):
        events = AuditEvent.objects.filter(action="ocsp_responder.created", object_id=str(alpha.authority_id))
        assert events.count() == 1
        assert "PRIVATE KEY" not in str(list(events.values_list("changes", flat=True)))


def test_the_url_route_answers_as_the_middleware_does_and_a_deactivated_tenant_stops(tenant_a, hierarchy_a, settings):
    """OcspMiddleware answers first; without it the URL route gives the same answer. A tenant made
    inactive serves no answer once its host is read again (at most HOST_TTL later)."""
    _, ca = hierarchy_a
    signers_forget()
    ocsp_hosts_forget()
    issuer = x509.load_pem_x509_certificate(ca.certificate_pem.encode())
    with tenant_context(tenant_a):
        leaf = x509.load_pem_x509_certificate(issue_one(ca).certificate_pem.encode())
    der = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA256()).build()
    der = der.public_bytes(serialization.Encoding.DER)
    client = Client(HTTP_HOST=TENANT_A["domain"])
    fast = ocsp.load_der_ocsp_response(client.post("/pki/ocsp", der, content_type=OCSP_REQUEST).content)
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if not name.endswith("OcspMiddleware")]
    routed = client.post("/pki/ocsp", der, content_type=OCSP_REQUEST)
    assert routed["Content-Type"] == "application/ocsp-response"
    routed = ocsp.load_der_ocsp_response(routed.content)
    assert fast.certificate_status is routed.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert fast.responder_key_hash == routed.responder_key_hash
    Tenant.objects.filter(pk=tenant_a.pk).update(is_active=False)
    ocsp_hosts_forget()
    assert client.post("/pki/ocsp", der, content_type=OCSP_REQUEST).status_code == 404
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "apps.certificates.pki.ocsp_views.OcspMiddleware"]
    assert client.post("/pki/ocsp", der, content_type=OCSP_REQUEST).status_code == 404


def issue_one(ca) -> CertificateVersion:
    profile = CertificateProfile.objects.get(authority=ca, name="client")
    request = PrivateRequest(profile=profile, name="routed", subject={"common_name": "routed"})
    return private_certificate_issue(request, actor=TEST_ACTOR).current_version
