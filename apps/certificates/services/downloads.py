"""A version's material as files: single PEMs, the certificate in DER, the CA certificates (ca.pem), a
PKCS#12 bundle, a ZIP, JSON. Every download that holds the private key is an audit event,
``private_key.downloaded`` (who, when, which version and format, through which token, from where).

A version signed from a CSR holds no key (it stayed with the requester): its public files download as
any other's; a format that holds the key is refused (``no_private_key``), never an empty key file."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError
from django.db import models, transaction

from apps.certificates.models import CertificateVersion, EventKind
from apps.certificates.services.auditing import certificate_audit
from apps.certificates.services.events import event_record
from apps.certificates.services.pkcs12 import Pkcs12Encryption, pkcs12_bundle
from certmate.actors import Actor

PUBLIC_ZIP_FILES = ("cert.pem", "chain.pem", "fullchain.pem")  # as CertMate's public archive holds them
PUBLIC_FILES = (*PUBLIC_ZIP_FILES, "cert.der", "ca.pem")
KEY_FILES = ("privkey.pem", "combined.pem", "cert.pfx")
FILES = PUBLIC_FILES + KEY_FILES
ZIP_FILES = ("cert.pem", "chain.pem", "fullchain.pem", "privkey.pem")  # as CertMate's archive holds them

PEM_TYPE = "application/x-pem-file"
DER_TYPE = "application/pkix-cert"
PKCS12_TYPE = "application/x-pkcs12"
CONTENT_TYPES = {**dict.fromkeys(FILES, PEM_TYPE), "cert.der": DER_TYPE, "cert.pfx": PKCS12_TYPE}


class DownloadFormat(models.TextChoices):
    """What a private-key download was, as its audit event names it."""

    ZIP = "zip", "ZIP archive"
    JSON = "json", "JSON"
    PRIVKEY = "privkey.pem", "privkey.pem"
    COMBINED = "combined.pem", "combined.pem"
    PFX = "cert.pfx", "cert.pfx (PKCS#12)"


class KeyFormat(models.TextChoices):
    PKCS1 = "pkcs1", "PKCS#1 / SEC1 (traditional OpenSSL)"
    PKCS8 = "pkcs8", "PKCS#8"


@dataclass(frozen=True)
class DownloadRequest:
    """What was asked for: one file, the JSON document, or the ZIP (the default)."""

    file: str | None = None
    json: bool = False
    include_private: bool = True  # for the ZIP only: without it, the public files alone
    key_format: str | None = None
    password: str | None = None  # PKCS#12 only
    pkcs12_encryption: str = Pkcs12Encryption.MODERN

    @property
    def holds_key(self) -> bool:
        if self.file:
            return self.file in KEY_FILES
        return self.json or self.include_private

    @property
    def audit_format(self) -> str:
        return self.file or (DownloadFormat.JSON if self.json else DownloadFormat.ZIP)


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    content: bytes = b""
    document: dict | None = None  # for JSON: rendered by the API like any other answer


def safe_filename(identifier: str) -> str:
    """The identifier as a file name: a wildcard's ``*`` becomes ``wildcard`` (``*.example.com`` ->
    ``wildcard.example.com``), anything else outside [a-z0-9.-] an underscore."""
    name = "wildcard" + identifier[1:] if identifier.startswith("*") else identifier
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in ".-") else "_" for ch in name).lstrip(".")


def private_key_pem(version: CertificateVersion, key_format: str | None = None) -> str:
    """The key as stored (certbot writes PKCS#8), or re-encoded: pkcs1 is the traditional OpenSSL form
    ("RSA PRIVATE KEY", or SEC1 "EC PRIVATE KEY" for an EC key), pkcs8 is "PRIVATE KEY"."""
    if not key_format:
        return version.private_key
    private_format = {
        KeyFormat.PKCS1: serialization.PrivateFormat.TraditionalOpenSSL,
        KeyFormat.PKCS8: serialization.PrivateFormat.PKCS8,
    }[KeyFormat(key_format)]
    key = serialization.load_pem_private_key(version.private_key.encode(), password=None)
    try:
        encoded = key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())
    except ValueError:
        raise ValidationError(
            f"a {version.key_algorithm} key has no {key_format} form: use pkcs8", code="key_format_unsupported"
        ) from None
    return encoded.decode()


def certificate_der(version: CertificateVersion) -> bytes:
    certificate = x509.load_pem_x509_certificate(version.certificate_pem.encode())
    return certificate.public_bytes(serialization.Encoding.DER)


def _file_text(version: CertificateVersion, name: str, key_format: str | None) -> str:
    if name == "privkey.pem":
        return private_key_pem(version, key_format)
    if name == "combined.pem":
        return _joined(version.fullchain_pem, private_key_pem(version, key_format))
    return {
        "cert.pem": version.certificate_pem,
        "chain.pem": version.chain_pem,
        "fullchain.pem": version.fullchain_pem,
        "ca.pem": version.ca_pem,
    }[name]


def _file_content(version: CertificateVersion, request: DownloadRequest) -> bytes:
    if request.file == "cert.der":
        return certificate_der(version)
    if request.file == "cert.pfx":
        return pkcs12_bundle(version, request.password, request.pkcs12_encryption)
    return _file_text(version, request.file, request.key_format).encode()


def key_held_check(version: CertificateVersion) -> None:
    """Refuse a download that would hold the key of a version signed from a CSR: there is none here."""
    if not version.has_private_key:
        raise ValidationError(
            "the private key stayed with the requester: this version was signed from their CSR and certmate "
            "never held its key; download cert.pem, cert.der, chain.pem, fullchain.pem, ca.pem or the public "
            "ZIP (include_private=false)",
            code="no_private_key",
        )


def _joined(*pems: str) -> str:
    return "".join(pem if pem.endswith("\n") else pem + "\n" for pem in pems)


def _zip(version: CertificateVersion, names: tuple[str, ...], key_format: str | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, _file_text(version, name, key_format))
    return buffer.getvalue()


def _document(version: CertificateVersion, key_format: str | None) -> dict:
    """CertMate's JSON download: the PEMs inline; pkcs1 adds the key's traditional form alongside."""
    document = {
        "domain": version.certificate.identifier,
        "version": version.number,
        "cert_pem": version.certificate_pem,
        "chain_pem": version.chain_pem,
        "fullchain_pem": version.fullchain_pem,
        "private_key_pem": private_key_pem(version, KeyFormat.PKCS8 if key_format == KeyFormat.PKCS8 else None),
    }
    if key_format == KeyFormat.PKCS1:
        document["private_key_pkcs1_pem"] = private_key_pem(version, KeyFormat.PKCS1)
    return document


def download_build(*, version: CertificateVersion, request: DownloadRequest) -> Download:
    """The material asked for, without recording anything (see certificate_download)."""
    if request.holds_key:
        key_held_check(version)
    base = safe_filename(version.certificate.identifier)
    if request.file:
        return Download(f"{base}_{request.file}", CONTENT_TYPES[request.file], _file_content(version, request))
    if request.json:
        return Download(f"{base}.json", "application/json", document=_document(version, request.key_format))
    if request.include_private:
        return Download(f"{base}_certificates.zip", "application/zip", _zip(version, ZIP_FILES, request.key_format))
    return Download(f"{base}_certificates_public.zip", "application/zip", _zip(version, PUBLIC_ZIP_FILES, None))


def certificate_download(
    *, version: CertificateVersion, request: DownloadRequest, actor: Actor, token_created_by: str = ""
) -> Download:
    """Build the download; when it holds the private key, record ``private_key.downloaded`` first (the
    event commits before the key leaves, so a download is never unrecorded). ``token_created_by``: the
    e-mail of whoever made the actor's API token for them (delegation), else empty."""
    download = download_build(version=version, request=request)
    if request.holds_key:
        details = {
            "version": version.number,
            "format": request.audit_format,
            "key_format": request.key_format or "",
            "token_created_by": token_created_by,
        }
        if request.file == "cert.pfx":
            details["pkcs12_encryption"] = str(request.pkcs12_encryption)
        with transaction.atomic():
            certificate_audit(
                actor=actor, action="private_key.downloaded", certificate=version.certificate, changes=details
            )
            # Its channels may be told (notifications, opt-in): who took which key in what format.
            event_record(
                kind=EventKind.KEY_DOWNLOADED,
                certificate=version.certificate,
                version=version,
                detail={"format": request.audit_format, "who": actor.name or actor.kind},
            )
    return download
