"""A version as one PKCS#12 file (certificate, key and chain), always under a password.

Modern (the default): PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC for the key and certificates, an
HMAC-SHA256 MAC; what OpenSSL 3, current Windows, macOS, iOS and Android import. Legacy: PBE with SHA-1
and 3-key triple DES and a SHA-1 MAC at 2,048 iterations, what ``openssl pkcs12 -export`` wrote before
OpenSSL 3: for importers that predate PBES2 (Windows before Server 2019 / 10 1709, macOS Keychain before
13, Android before 12, Java 8's older updates). Never an unencrypted file: anyone who copies one would
hold the key.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ValidationError
from django.db import models

from apps.certificates.models import CertificateVersion

MAX_PASSWORD = 1024
# PBKDF2-SHA256 rounds for the modern file: a stolen file resists guessing, an import takes well under
# a second. The legacy file keeps OpenSSL 1.1's 2,048: some old importers are slow or fail beyond it.
MODERN_ROUNDS = 200_000
LEGACY_ROUNDS = 2048


class Pkcs12Encryption(models.TextChoices):
    MODERN = "modern", "AES-256-CBC, PBES2/PBKDF2-SHA256, SHA-256 MAC"
    LEGACY = "legacy", "3DES, SHA-1 PBE and MAC (old Windows, macOS, Android)"


def pkcs12_password_check(password: str | None) -> bytes:
    """The password as bytes; refused when empty, too long, or holding a NUL (C libraries would cut the
    password there and encrypt with less than what was typed)."""
    if not password:
        refusal = ValidationError(
            "a PKCS#12 file needs a password (X-PFX-Password header or POST body): certmate never hands out "
            "an unencrypted key",
            code="password_required",
        )
        raise ValidationError({"password": refusal})
    if len(password) > MAX_PASSWORD or "\x00" in password:
        refusal = ValidationError(f"use at most {MAX_PASSWORD} characters and no NUL character", code="invalid")
        raise ValidationError({"password": refusal})
    return password.encode()


def _encryption(password: bytes, encryption: str) -> serialization.KeySerializationEncryption:
    builder = serialization.PrivateFormat.PKCS12.encryption_builder()
    if encryption == Pkcs12Encryption.LEGACY:
        builder = (
            builder.kdf_rounds(LEGACY_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())  # noqa: S303 - what the old importers this option exists for read
        )
    else:
        builder = (
            builder.kdf_rounds(MODERN_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
        )
    return builder.build(password)


def pkcs12_bundle(
    version: CertificateVersion, password: str | None, encryption: str = Pkcs12Encryption.MODERN
) -> bytes:
    """Certificate, key and chain in one PKCS#12 file, encrypted with ``password`` (required)."""
    secret = pkcs12_password_check(password)
    key = serialization.load_pem_private_key(version.private_key.encode(), password=None)
    certificate = x509.load_pem_x509_certificate(version.certificate_pem.encode())
    chain = x509.load_pem_x509_certificates(version.chain_pem.encode()) if version.chain_pem.strip() else None
    name = version.certificate.identifier.encode()
    return pkcs12.serialize_key_and_certificates(name, key, certificate, chain, _encryption(secret, encryption))
