"""Issuing from a private CA through the service: server-side keys and CSRs, the profile's rules
enforced before anything is signed, what openssl reads in the result."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateProfile, CertificateVersion
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.profile_services import profile_create
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl

pytestmark = pytest.mark.django_db


def make_csr(common_name: str, names: list[x509.GeneralName], key=None, *, ca: bool = False):
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    csr = builder.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def _profile(name: str) -> CertificateProfile:
    return CertificateProfile.objects.get(authority__name="alpha", name=name)


def _chain_verifies(tmp_path, version: CertificateVersion, purpose: str) -> str:
    root = version.chain_pem.split("-----END CERTIFICATE-----\n")[1] + "-----END CERTIFICATE-----\n"
    (tmp_path / "root.pem").write_text(root)
    (tmp_path / "untrusted.pem").write_text(version.chain_pem)
    (tmp_path / "leaf.pem").write_text(version.certificate_pem)
    done = openssl("verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "untrusted.pem"),
                   "-purpose", purpose, str(tmp_path / "leaf.pem"))  # fmt: skip
    return done.stdout


def test_a_client_certificate_with_a_server_side_key(tenant_a, hierarchy_a, tmp_path):
    with tenant_context(tenant_a):
        certificate = private_certificate_issue(
            PrivateRequest(profile=_profile("client"), subject={"common_name": "alice", "organization": "Alpha"},
                           alt_names=["email:alice@alpha.test"], name="alice-laptop"),
            actor=TEST_ACTOR,
        )  # fmt: skip
        version = certificate.current_version
        assert (certificate.kind, certificate.identifier, certificate.status) == ("client", "alice-laptop", "active")
        assert version.extended_key_usage == ["client_auth"] and version.key_usage == ["digital_signature"]
        assert version.san == ["alice@alpha.test"] and version.authority.name == "alpha"
        assert len(version.serial) >= 16  # 64 bits or more
        assert AuditEvent.objects.filter(action="certificate.requested", object_name="alice-laptop").exists()
        assert certificate.jobs.get().status == "succeeded"
    assert _chain_verifies(tmp_path, version, "sslclient").strip().endswith("OK")
    text = openssl("x509", "-noout", "-text", "-in", str(tmp_path / "leaf.pem")).stdout
    assert "CA:FALSE" in text and "TLS Web Client Authentication" in text
    assert "X509v3 Authority Key Identifier" in text and "X509v3 Subject Key Identifier" in text
    public_of_key = openssl("pkey", "-pubout", input_text=version.private_key).stdout
    assert public_of_key == openssl("x509", "-noout", "-pubkey", "-in", str(tmp_path / "leaf.pem")).stdout


def test_two_certificates_for_one_subject(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        for _device in ("laptop", "phone"):
            private_certificate_issue(
                PrivateRequest(profile=_profile("client"), subject={"common_name": "bob"}), actor=TEST_ACTOR
            )
        names = sorted(
            Certificate.objects.filter(subject_fields__common_name="bob").values_list("identifier", flat=True)
        )
    assert len(names) == 2 and all(name.startswith("bob-") for name in names)


def test_a_csr_is_signed_and_only_what_the_profile_grants(tenant_a, hierarchy_a, tmp_path):
    csr, key = make_csr("db.internal.alpha.test", [x509.DNSName("db.internal.alpha.test")], ca=True)
    with tenant_context(tenant_a):
        certificate = private_certificate_issue(
            PrivateRequest(profile=_profile("server"), kind="server", csr_pem=csr), actor=TEST_ACTOR
        )
        version = certificate.current_version
    assert version.private_key == "" and certificate.identifier == "db.internal.alpha.test"
    leaf = x509.load_pem_x509_certificate(version.certificate_pem.encode())
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.public_key() == key.public_key()
    assert version.key_usage == ["digital_signature"]  # keyEncipherment only for RSA keys
    assert _chain_verifies(tmp_path, version, "sslserver").strip().endswith("OK")


def test_a_forbidden_name_is_refused_naming_the_rule(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        profile_create(authority=hierarchy_a[1], name="internal-servers", kind="server",
                       key_usage=["digitalSignature"], extended_key_usage=["serverAuth"], san_types=["dns"],
                       name_patterns={"dns": ["*.internal.example"]}, actor=TEST_ACTOR)  # fmt: skip
        with pytest.raises(ValidationError) as refused:
            private_certificate_issue(
                PrivateRequest(profile=_profile("internal-servers"), kind="server",
                               alt_names=["db.internal.example", "db.other.example"]),
                actor=TEST_ACTOR,
            )  # fmt: skip
        assert Certificate.objects.count() == 0
    assert refused.value.messages == [
        "'db.other.example': not allowed by profile 'internal-servers' (allowed: *.internal.example)"
    ]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("bad-signature", "signature does not verify"),
        ("small-key", "RSA 1024"),
        ("forbidden-name", "SAN types allowed"),
    ],
)
def test_bad_csrs_are_refused(tenant_a, hierarchy_a, case, message):
    if case == "small-key":
        csr, _ = make_csr("x", [], key=rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505 - a key too small on purpose
    elif case == "forbidden-name":
        csr, _ = make_csr("x", [x509.UniformResourceIdentifier("spiffe://alpha/x")])
    else:
        csr, _ = make_csr("x", [x509.DNSName("x.alpha.test")])
        body = csr.splitlines()
        body[3] = body[3][:10] + ("A" if body[3][10] != "A" else "B") + body[3][11:]
        csr = "\n".join(body) + "\n"
    with tenant_context(tenant_a), pytest.raises(ValidationError) as refused:
        private_certificate_issue(
            PrivateRequest(profile=_profile("server"), kind="server", csr_pem=csr), actor=TEST_ACTOR
        )
    assert message in " ".join(refused.value.messages)


def test_a_tenant_cannot_see_another_tenants_ca(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    with tenant_context(tenant_b):
        assert set(CertificateProfile.objects.values_list("authority__name", flat=True)) == {"beta"}
