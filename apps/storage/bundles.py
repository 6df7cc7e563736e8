"""A certificate version as a plain bundle, with metadata.json in CertMate's shape plus what it lacked.

A private CA's certificate (server or client) publishes ca.pem beside the usual files: the issuing CA's
certificate and the issuers above it, what a server checking client certificates trusts. An ACME one
does not (chain.pem is that already, and no relying party is told to trust a public intermediate). A
version signed from a CSR publishes no privkey.pem at all (never an empty file where a key is expected):
its key stayed with the requester; metadata.json says so (``private_key_included: false``) and lists the
PEM files published (``files``)."""

from __future__ import annotations

from typing import Any

from apps.certificates.models import CertificateVersion
from apps.storage.backends.base import CA_FILE, FILES_FIELD, KEY_FILE, Bundle

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
        "issuing_ca": version.authority.name if version.authority_id else None,
        "private_key_included": version.has_private_key,
        FILES_FIELD: _published(version),
    }


def _ca_pem(version: CertificateVersion) -> str:
    return version.ca_pem if version.authority_id else ""


def _published(version: CertificateVersion) -> list[str]:
    names = ["cert.pem", "chain.pem", "fullchain.pem"]
    names += [KEY_FILE] if version.has_private_key else []
    names += [CA_FILE] if _ca_pem(version) else []
    return sorted(names)


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
        ca_pem=_ca_pem(version),
    )
