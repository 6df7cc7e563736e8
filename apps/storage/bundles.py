"""A certificate version as a plain bundle, with metadata.json in CertMate's shape plus what it lacked."""

from __future__ import annotations

from typing import Any

from apps.certificates.models import CertificateVersion
from apps.storage.backends.base import Bundle

# CertMate's certificate_type: ACME certificates are domain-validated.
_ACME_TYPE = "DV"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def version_metadata(version: CertificateVersion) -> dict[str, Any]:
    certificate = version.certificate
    ca, dns = certificate.ca_account, certificate.dns_account
    directory = ca.directory_url if ca else ""
    return {
        # CertMate's fields, so its tools and scripts read our metadata.json as their own.
        "domain": certificate.identifier,
        "dns_provider": dns.provider if dns else None,
        "created_at": _iso(certificate.created_at),
        "renewed_at": _iso(version.created_at) if version.number > 1 else None,
        "email": ca.email if ca else None,
        "staging": "staging" in directory or "test-api" in directory,
        "account_id": dns.name if dns else None,
        "certificate_type": _ACME_TYPE if ca else "Private",
        # What CertMate lacked: identity of this version and what the certificate itself says.
        "kind": certificate.kind,
        "identifier": certificate.identifier,
        "version": version.number,
        "ca_account": ca.name if ca else None,
        "acme_directory": directory or None,
        "serial": version.serial,
        "not_before": _iso(version.not_before),
        "not_after": _iso(version.not_after),
        "subject": version.subject,
        "issuer": version.issuer,
        "san": list(version.san),
        "key_algorithm": version.key_algorithm,
        "key_size": version.key_size,
        "key_usage": list(version.key_usage),
        "extended_key_usage": list(version.extended_key_usage),
        "fingerprint_sha256": version.fingerprint_sha256,
        "revoked_at": _iso(version.revoked_at),
    }


def version_bundle(version: CertificateVersion) -> Bundle:
    return Bundle(
        kind=version.certificate.kind,
        identifier=version.certificate.identifier,
        version=version.number,
        cert_pem=version.certificate_pem,
        chain_pem=version.chain_pem,
        fullchain_pem=version.fullchain_pem,
        privkey_pem=version.private_key,
        metadata=version_metadata(version),
    )
