"""Reads of a tenant's CAs and profiles (the current tenant's schema); NotFound, never Http404."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apps.certificates.models import CaState, CertificateAuthority, CertificateProfile
from apps.certificates.pki.profile_services import PROFILE_NAME
from certmate.errors import NotFound

# What a listing of CAs never reads: the encrypted key (decrypting it is the slowest part of a row).
_CA_NOT_READ = ("private_key", "parent__private_key")


def ca_list() -> QuerySet[CertificateAuthority]:
    return (
        CertificateAuthority.objects.select_related("parent")
        .defer(*_CA_NOT_READ)
        .prefetch_related("profiles")
        .order_by("name", "pk")
    )


def profile_list(*, authority: CertificateAuthority) -> QuerySet[CertificateProfile]:
    return authority.profiles.select_related("authority").defer("authority__private_key").order_by("name", "pk")


def profile_get(*, authority: CertificateAuthority, name: str) -> CertificateProfile:
    """The profile of ``authority`` named ``name``; NotFound when it has none."""
    # Only what a profile name can be is looked up (a NUL byte never reaches the database).
    valid = isinstance(name, str) and PROFILE_NAME.fullmatch(name)
    found = profile_list(authority=authority).filter(name=name).first() if valid else None
    if found is None:
        raise NotFound(f"CA {authority.name!r} has no profile {str(name)[:80]!r}")
    return found


def ca_expiring(*, within_days: int = 90, now: datetime | None = None) -> list[CertificateAuthority]:
    """The tenant's CAs in use (pending CAs have no certificate; retired and revoked ones issue nothing) whose
    certificate ends within ``within_days`` or has ended, soonest first: one query."""
    until = (now or timezone.now()) + timedelta(days=within_days)
    rows = CertificateAuthority.objects.filter(
        state__in=(CaState.ACTIVE, CaState.DISABLED), revoked_at__isnull=True, not_after__lte=until
    )
    return list(rows.defer("private_key", "certificate_pem", "chain_pem", "csr_pem").order_by("not_after", "pk"))
