"""Reads behind /api/client-certs: the tenant's private client certificates, found and filtered as
CertMate does, each as CertMate's metadata document, and the statistics."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KT

from apps.certificates.models import Certificate, CertificateAuthority, CertificateKind, TenantSettings
from apps.certificates.pki.issuing import IDENTIFIER
from certmate.errors import NotFound

# Never read for a listing: the material and the CA's key.
_NOT_LISTED = (
    "current_version__certificate_pem",
    "current_version__chain_pem",
    "current_version__fullchain_pem",
    "current_version__private_key",
    "authority__private_key",
    "authority__certificate_pem",
    "authority__chain_pem",
    "authority__csr_pem",
)
# CertMate files a certificate under vpn, api or other by its usage, and filters by that folder.
_VPN = Q(usage__icontains="vpn")
_API = ~_VPN & (Q(usage__icontains="api") | Q(usage__icontains="mtls"))


def client_certificates() -> QuerySet[Certificate]:
    """The tenant's client certificates from its private CAs, newest first."""
    rows = Certificate.objects.filter(kind=CertificateKind.CLIENT, authority__isnull=False)
    return rows.select_related("current_version", "authority").order_by("-created_at", "-pk")


def client_certificates_filtered(*, usage: str = "", revoked: bool | None = None, search: str = "") -> QuerySet:
    """CertMate's filters: usage (by its vpn / api / other folder), revoked, search (common name or
    e-mail, and the identifier), all case-insensitive."""
    rows = client_certificates().defer(*_NOT_LISTED)
    if usage:
        lowered = usage.lower()
        rows = rows.filter(
            _VPN if "vpn" in lowered else _API if "api" in lowered or "mtls" in lowered else ~_VPN & ~_API
        )
    if revoked is not None:
        rows = rows.filter(current_version__revoked_at__isnull=not revoked)
    if search:
        rows = rows.filter(
            Q(subject_fields__common_name__icontains=search)
            | Q(subject_fields__email__icontains=search)
            | Q(identifier__icontains=search)
        )
    return rows


def client_certificate_get(identifier: str) -> Certificate:
    """The client certificate named ``identifier`` (400 when it cannot be a name, 404 when none is)."""
    if not isinstance(identifier, str) or not IDENTIFIER.fullmatch(identifier) or ".." in identifier:
        raise ValidationError({"identifier": ["Invalid certificate identifier"]}, code="invalid")
    found = client_certificates().filter(identifier=identifier).first()
    if found is None:
        raise NotFound(f"Certificate not found: {identifier}")
    return found


def _camel(name: str) -> str:
    """parsing's digital_signature / client_auth as CertMate writes them: digitalSignature / clientAuth."""
    return re.sub(r"_([a-z])", lambda match: match.group(1).upper(), name)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def client_metadata(certificate: Certificate, *, threshold_days: int | None = None) -> dict:
    """CertMate's metadata document of ``certificate`` (its keys and meanings), plus status and version."""
    if threshold_days is None:
        threshold_days = TenantSettings.load().renewal_threshold_days
    subject = certificate.subject_fields or {}
    version = certificate.current_version
    revoked_at = version.revoked_at if version is not None else None
    days = certificate.validity_days
    if days is None and version is not None:
        days = round((version.not_after - version.not_before).total_seconds() / 86400)
    return {
        "type": "client",
        "identifier": certificate.identifier,
        "common_name": subject.get("common_name", ""),
        "email": subject.get("email", ""),
        "organization": subject.get("organization", ""),
        "organizational_unit": subject.get("organizational_unit", ""),
        "cert_usage": certificate.usage,
        "key_usage": [_camel(usage) for usage in version.key_usage] if version else [],
        "extended_key_usage": [_camel(usage) for usage in version.extended_key_usage] if version else [],
        "created_at": _iso(certificate.created_at),
        "expires_at": _iso(version.not_after if version else None),
        "days_valid": days,
        "serial_number": str(int(version.serial, 16)) if version else None,
        "renewal_enabled": certificate.auto_renew,
        "renewal_threshold_days": (
            certificate.renew_before_days if certificate.renew_before_days is not None else threshold_days
        ),
        "csr_required": bool(certificate.csr_pem),
        "ca_used": certificate.authority.name,
        "revoked": revoked_at is not None,
        "revoked_at": _iso(revoked_at),
        "reason_revoked": (version.revocation_reason or None) if revoked_at is not None else None,
        "notes": certificate.notes,
        "status": certificate.status,
        "version": version.number if version else None,
    }


def client_statistics(*, rows: QuerySet[Certificate] | None = None) -> dict:
    """CertMate's statistics of ``rows`` (default: every client certificate): counts, the unrevoked ones by
    usage and by organization, the CA's state."""
    rows = (client_certificates() if rows is None else rows).order_by()
    total = rows.count()
    active = rows.filter(current_version__revoked_at__isnull=True)
    by_usage = {
        row["usage"] or "other": row["n"] for row in active.values("usage").annotate(n=Count("pk")).order_by("usage")
    }
    organizations = active.annotate(org=KT("subject_fields__organization")).values("org").annotate(n=Count("pk"))
    by_organization = {row["org"] or "Unknown": row["n"] for row in organizations.order_by("org")}
    active_count = sum(by_usage.values())
    default = CertificateAuthority.objects.filter(is_default=True).first()
    return {
        "total": total,
        "active": active_count,
        "revoked": total - active_count,
        "by_usage": by_usage,
        "by_organization": by_organization,
        "ca_status": "active" if default is not None and default.can_issue else "not_loaded",
    }
