"""End-entity certificates from a private CA: basicConstraints CA:FALSE (critical), the profile's key
usage (critical) and extended key usage, the SANs (critical when the subject is empty), subject and
authority key ids, a random serial of the CA's serial policy."""

from __future__ import annotations

import secrets

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from apps.certificates.models import CertificateAuthority
from apps.certificates.pki.build import BACKDATE
from apps.certificates.pki.keys import PrivateKey, key_load, signing_hash
from apps.certificates.pki.names import subject_x509
from apps.certificates.pki.profiles import KEY_USAGES, Approved, eku_oid
from apps.certificates.pki.public_urls import revocation_extensions


def serial_random(bits: int) -> int:
    """A positive serial of ``bits`` random bits (the top bit set, so it has that many)."""
    return secrets.randbits(bits - 1) | (1 << (bits - 1))


def _key_usage(names: list[str]) -> x509.KeyUsage:
    flags = dict.fromkeys(
        ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
         "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"),
        False,
    )  # fmt: skip
    for name in names:
        flags[KEY_USAGES[name]] = True
    return x509.KeyUsage(**flags)


def leaf_build(
    *, authority: CertificateAuthority, approved: Approved, public_key, signer: PrivateKey | None = None
) -> x509.Certificate:
    """Sign ``public_key`` for what ``approved`` lets through. ``signer``: the CA's key already loaded
    (a batch loads it once)."""
    signer = signer or key_load(authority.private_key)
    issuer = x509.load_pem_x509_certificate(authority.certificate_pem.encode())
    subject = subject_x509(approved.subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(serial_random(authority.serial_bits))
        .not_valid_before(approved.not_before - BACKDATE)
        .not_valid_after(approved.not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(approved.key_usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False)
    )
    for extension in revocation_extensions(authority):
        builder = builder.add_extension(extension, critical=False)
    if approved.extended_key_usage:
        usages = [eku_oid(name) for name in approved.extended_key_usage]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if approved.alt_names:
        names = [name.general_name() for name in approved.alt_names]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=not len(subject))
    return builder.sign(signer, signing_hash(signer))


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()
