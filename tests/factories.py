"""Certificates with real material (a private CA, a leaf and its key), stored as issued versions, for
tests that need versions without running an ACME order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.db.models import Max

from apps.certificates.models import Certificate, CertificateKind, CertificateStatus, CertificateVersion
from apps.certificates.parsing import certificate_facts


@cache
def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "certmate test intermediate")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def leaf(names: list[str], *, days: int = 90, rsa_bits: int | None = None) -> tuple[str, str, str]:
    """(certificate PEM, chain PEM, private key PEM) for ``names``, signed by the test CA."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    ca_key, ca_cert = _ca()
    key = rsa.generate_private_key(65537, rsa_bits) if rsa_bits else ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return _pem(cert), _pem(ca_cert), key_pem


def issued_version(
    identifier: str,
    *,
    san: list[str] | None = None,
    kind: str = CertificateKind.SERVER,
    ca_account=None,
    dns_account=None,
    days: int = 90,
    rsa_bits: int | None = None,
) -> CertificateVersion:
    """A new current version of the certificate ``identifier`` (created if missing), in the active schema."""
    certificate, _ = Certificate.objects.get_or_create(
        kind=kind,
        identifier=identifier,
        defaults={"san_domains": san or [], "ca_account": ca_account, "dns_account": dns_account},
    )
    cert_pem, chain_pem, key_pem = leaf(certificate.names, days=days, rsa_bits=rsa_bits)
    number = (certificate.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = CertificateVersion.objects.create(
        certificate=certificate,
        number=number,
        certificate_pem=cert_pem,
        chain_pem=chain_pem,
        fullchain_pem=cert_pem + chain_pem,
        private_key=key_pem,
        **certificate_facts(cert_pem).__dict__,
    )
    Certificate.objects.filter(pk=certificate.pk).update(current_version=version, status=CertificateStatus.ACTIVE)
    version.certificate.refresh_from_db()
    return version
