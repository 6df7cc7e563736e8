"""Proof with real handshakes: TLS servers (Python ``ssl`` and ``openssl s_server``) trusting tenant A's
private CA accept the client certificates certmate issues and refuse those it must; ``openssl s_client``
trusts a server certificate from the same CA; ``openssl verify`` walks the chains."""

from __future__ import annotations

import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateProfile, CertificateVersion
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.keys import key_pem
from apps.certificates.pki.profile_services import profile_create
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl
from tests.pki.test_issuing import make_csr
from tests.pki.tls import (
    Credentials,
    OpensslServer,
    PythonTlsServer,
    client_context,
    credentials_write,
    s_client,
    tls_exchange,
)

pytestmark = pytest.mark.django_db


def issue(tenant, authority: str, profile: str, **request) -> CertificateVersion:
    """Issue through the service in ``tenant``'s schema; the new certificate's current version."""
    with tenant_context(tenant):
        profile_row = CertificateProfile.objects.select_related("authority").get(
            authority__name=authority, name=profile
        )
        certificate = private_certificate_issue(PrivateRequest(profile=profile_row, **request), actor=TEST_ACTOR)
        version = certificate.current_version
        version.private_key  # noqa: B018 - read (decrypted) while the tenant's schema is active
        return version


@pytest.fixture
def server(tenant_a, hierarchy_a, tmp_path) -> Credentials:
    """Tenant A's TLS server: the "server" profile, for localhost and 127.0.0.1."""
    version = issue(tenant_a, "alpha", "server", kind="server", alt_names=["DNS:localhost", "IP:127.0.0.1"])
    return credentials_write(tmp_path, "server", version)


def client(tenant, tmp_path, name: str, *, authority: str = "alpha", profile: str = "client", **request):
    version = issue(tenant, authority, profile, name=name, subject={"common_name": name}, **request)
    return credentials_write(tmp_path, name, version)


def python_handshake(server: Credentials, presented: Credentials, *, cafile, cert_chain=None):
    """A Python server trusting ``cafile`` and a Python client showing ``presented`` (its leaf and
    intermediate unless ``cert_chain`` says otherwise): (the server's view, what the client read or the
    client's SSLError)."""
    with PythonTlsServer(cert_chain=server.chain, key=server.key, cafile=cafile) as listening:
        context = client_context(cafile=server.root, cert_chain=cert_chain or presented.chain, key=presented.key)
        try:
            received = tls_exchange(listening.port, context)
        except (ssl.SSLError, ConnectionError) as error:
            received = error
        return listening.result(), received


@pytest.mark.parametrize("key_type", ["ec256", "rsa2048", "ed25519"])
def test_a_server_trusting_the_root_accepts_a_client_certificate_with_a_server_side_key(
    tenant_a, server, tmp_path, key_type
):
    alice = client(tenant_a, tmp_path, f"alice-{key_type}", key_type=key_type)
    seen, received = python_handshake(server, alice, cafile=server.root)
    assert seen.accepted, seen
    assert seen.peer_common_name == f"alice-{key_type}" and received == b"hello\n"
    assert seen.version == "TLSv1.3"


def test_a_server_holding_the_intermediate_accepts_a_client_that_sends_only_its_leaf(tenant_a, server, tmp_path):
    alice = client(tenant_a, tmp_path, "alice")
    seen, received = python_handshake(server, alice, cafile=server.root, cert_chain=alice.leaf)
    assert seen.verify_message == "unable to get local issuer certificate"  # the root alone is not enough
    seen, received = python_handshake(server, alice, cafile=server.root_and_intermediate, cert_chain=alice.leaf)
    assert seen.accepted and received == b"hello\n"


def test_a_client_certificate_from_a_csr_whose_key_certmate_never_saw(tenant_a, server, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    csr, _ = make_csr("sensor-7", [x509.UniformResourceIdentifier("spiffe://alpha.test/sensor/7")], key=key)
    version = issue(tenant_a, "alpha", "client", name="sensor-7", csr_pem=csr)
    assert version.private_key == ""
    sensor = credentials_write(tmp_path, "sensor-7", version, key_pem=key_pem(key))
    seen, received = python_handshake(server, sensor, cafile=server.root)
    assert seen.accepted and seen.peer_common_name == "sensor-7" and received == b"hello\n"


def test_a_client_certificate_from_another_tenants_ca_is_refused(tenant_b, hierarchy_b, server, tmp_path):
    mallory = client(tenant_b, tmp_path, "mallory", authority="beta")
    seen, received = python_handshake(server, mallory, cafile=server.root)
    assert not seen.accepted
    assert (seen.reason, seen.verify_message) == ("CERTIFICATE_VERIFY_FAILED", "unable to get local issuer certificate")
    assert isinstance(received, ssl.SSLError) and received.reason == "TLSV1_ALERT_UNKNOWN_CA"


@pytest.fixture
def no_client_auth(tenant_a, hierarchy_a) -> str:
    """A client profile of tenant A that grants serverAuth only."""
    with tenant_context(tenant_a):
        profile_create(authority=hierarchy_a[1], name="no-client-auth", kind="client",
                       key_usage=["digitalSignature"], extended_key_usage=["serverAuth"],
                       san_types=["dns", "email"], actor=TEST_ACTOR)  # fmt: skip
    return "no-client-auth"


@pytest.mark.tools
def test_a_client_certificate_without_client_auth_is_refused_for_its_purpose(
    tenant_a, server, no_client_auth, tmp_path
):
    carol = client(tenant_a, tmp_path, "carol", profile=no_client_auth)
    # The chain itself is sound: only the purpose check (the EKU) tells it is no client certificate.
    assert openssl("verify", "-CAfile", str(carol.root), "-untrusted", str(carol.intermediate),
                   str(carol.leaf)).stdout.strip().endswith("OK")  # fmt: skip
    refused = openssl("verify", "-CAfile", str(carol.root), "-untrusted", str(carol.intermediate),
                      "-purpose", "sslclient", str(carol.leaf), check=False)  # fmt: skip
    assert refused.returncode != 0 and "error 26" in refused.stderr + refused.stdout
    seen, received = python_handshake(server, carol, cafile=server.root)
    assert (seen.reason, seen.verify_message) == ("CERTIFICATE_VERIFY_FAILED", "unsuitable certificate purpose")
    assert isinstance(received, ssl.SSLError) and received.reason == "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE"


@pytest.mark.tools
@pytest.mark.parametrize(
    ("who", "anchors", "refusal"),
    [
        ("alice", "root", None),
        ("alice", "root_and_intermediate", None),
        ("mallory", "root", ("num=20:unable to get local issuer certificate", "TLSV1_ALERT_UNKNOWN_CA")),
        ("carol", "root", ("num=26:unsuitable certificate purpose", "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE")),
    ],
)
def test_openssl_s_server_requiring_a_client_certificate(
    tenant_a, tenant_b, hierarchy_b, server, no_client_auth, tmp_path, who, anchors, refusal
):
    presented = {
        "alice": lambda: client(tenant_a, tmp_path, "alice"),
        "mallory": lambda: client(tenant_b, tmp_path, "mallory", authority="beta"),
        "carol": lambda: client(tenant_a, tmp_path, "carol", profile=no_client_auth),
    }[who]()
    with OpensslServer(cert=server.leaf, chain=server.intermediate, key=server.key,
                       cafile=getattr(server, anchors)) as s_server:  # fmt: skip
        # With the intermediate among the server's anchors, the client shows its leaf alone.
        shown = presented.leaf if anchors == "root_and_intermediate" else presented.chain
        context = client_context(cafile=server.root, cert_chain=shown, key=presented.key)
        try:
            # A refused client only waits for the alert: a request sent to a closed peer could draw a reset.
            request = b"GET / HTTP/1.0\r\n\r\n" if refusal is None else b""
            received = tls_exchange(s_server.port, context, send=request).decode()
        except (ssl.SSLError, ConnectionError) as error:
            received = error
    if refusal is None:
        assert received.startswith("HTTP/1.0 200 ok") and f"Subject: CN={who}" in received
        assert "verify error" not in s_server.output
    else:
        assert f"verify error:{refusal[0]}" in s_server.output
        assert isinstance(received, ssl.SSLError) and received.reason == refusal[1]


def test_internal_single_label_host_names_are_accepted_and_still_checked(tenant_a, hierarchy_a):
    """A private CA names "localhost" and intranet hosts ("db"); the two-label rule is ACME's."""
    version = issue(tenant_a, "alpha", "server", kind="server", alt_names=["DNS:LocalHost.", "db"])
    assert version.san == ["localhost", "db"]
    for bad in ("DNS:-db", "DNS:db_1", "DNS:123"):
        with tenant_context(tenant_a), pytest.raises(ValidationError) as refused:
            private_certificate_issue(
                PrivateRequest(profile=CertificateProfile.objects.get(name="server"), kind="server", alt_names=[bad]),
                actor=TEST_ACTOR,
            )
        assert refused.value.code in ("invalid_domain", "invalid_name")


@pytest.fixture
def beta_root(hierarchy_b, tmp_path):
    """Tenant B's root as a file: the wrong trust anchor for tenant A's certificates."""
    path = tmp_path / "beta-root.pem"
    path.write_text(hierarchy_b[0].certificate_pem)
    return path


def s_client_to_python_server(server: Credentials, presented: Credentials, *args: str):
    """``openssl s_client`` (showing ``presented`` as its client certificate) to a Python server that
    shows ``server``: (s_client's finished process, its output)."""
    with PythonTlsServer(cert_chain=server.chain, key=server.key, cafile=server.root) as listening:
        done = s_client(listening.port, "-cert", str(presented.leaf), "-key", str(presented.key),
                        "-cert_chain", str(presented.intermediate), *args)  # fmt: skip
        listening.result()
    return done, done.stdout + done.stderr


@pytest.mark.tools
@pytest.mark.parametrize("key_type", ["ec256", "rsa2048", "ed25519"])
def test_openssl_s_client_trusts_a_server_certificate_from_the_private_ca(tenant_a, hierarchy_a, tmp_path, key_type):
    version = issue(tenant_a, "alpha", "server", kind="server", key_type=key_type,
                    alt_names=["DNS:localhost", "IP:127.0.0.1"])  # fmt: skip
    server = credentials_write(tmp_path, "server", version)
    alice = client(tenant_a, tmp_path, "alice")
    for check in (["-verify_hostname", "localhost"], ["-verify_ip", "127.0.0.1"]):
        done, output = s_client_to_python_server(server, alice, "-CAfile", str(server.root),
                                                 "-servername", "localhost", *check)  # fmt: skip
        assert done.returncode == 0, output
        assert "Verify return code: 0 (ok)" in output and "New, TLSv1.3, Cipher is" in output


@pytest.mark.tools
@pytest.mark.parametrize(
    ("anchor", "check", "error"),
    [
        ("beta", ("-verify_hostname", "localhost"), "num=20:unable to get local issuer certificate"),
        ("alpha", ("-verify_hostname", "db.alpha.test"), "num=62:hostname mismatch"),
        ("alpha", ("-verify_ip", "127.0.0.2"), "num=64:IP address mismatch"),
    ],
)
def test_openssl_s_client_refuses_the_wrong_anchor_or_name(tenant_a, server, beta_root, tmp_path, anchor, check, error):
    alice = client(tenant_a, tmp_path, "alice")
    cafile = beta_root if anchor == "beta" else server.root
    done, output = s_client_to_python_server(server, alice, "-CAfile", str(cafile), "-servername", "localhost", *check)
    assert done.returncode != 0 and f"verify error:{error}" in output, output


@pytest.mark.tools
def test_an_rsa_server_certificate_serves_tls12_rsa_key_exchange(tenant_a, hierarchy_a, tmp_path):
    """TLS 1.2 with RSA key transport needs keyEncipherment: the "server" profile grants it to RSA keys."""
    version = issue(tenant_a, "alpha", "server", kind="server", key_type="rsa2048", alt_names=["DNS:localhost"])
    assert version.key_usage == ["digital_signature", "key_encipherment"]
    server = credentials_write(tmp_path, "server", version)
    alice = client(tenant_a, tmp_path, "alice")
    with OpensslServer(cert=server.leaf, chain=server.intermediate, key=server.key, cafile=server.root) as s_server:
        done = s_client(s_server.port, "-CAfile", str(server.root), "-verify_hostname", "localhost",
                        "-tls1_2", "-cipher", "AES128-GCM-SHA256", "-cert", str(alice.leaf), "-key", str(alice.key),
                        "-cert_chain", str(alice.intermediate))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Cipher is AES128-GCM-SHA256" in done.stdout and "Verify return code: 0 (ok)" in done.stdout


@pytest.mark.tools
def test_openssl_verify_walks_the_chains(tenant_a, server, beta_root, tmp_path):
    alice = client(tenant_a, tmp_path, "alice", key_type="ed25519")
    for leaf, purpose in ((alice, "sslclient"), (server, "sslserver")):
        done = openssl("verify", "-CAfile", str(leaf.root), "-untrusted", str(leaf.intermediate),
                       "-purpose", purpose, str(leaf.leaf))  # fmt: skip
        assert done.stdout.strip() == f"{leaf.leaf}: OK"
        refused = openssl("verify", "-CAfile", str(beta_root), "-untrusted", str(leaf.intermediate),
                          str(leaf.leaf), check=False)  # fmt: skip
        assert refused.returncode != 0 and "unable to get local issuer certificate" in refused.stderr + refused.stdout
    assert openssl("verify", "-CAfile", str(server.root), str(server.leaf), check=False).returncode != 0
