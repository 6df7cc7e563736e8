"""The profile CertMate's client-certificate endpoints issue with: the ``client`` profile of the tenant's
default CA (``ca_default_ensure`` makes a hierarchy "default" on first use, as CertMate makes its own CA)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.certificates.models import CertificateAuthority, CertificateProfile

CLIENT_PROFILE = "client"


def client_profile(authority: CertificateAuthority) -> CertificateProfile:
    profile = CertificateProfile.objects.select_related("authority").filter(authority=authority, name=CLIENT_PROFILE)
    found = profile.first()
    if found is None:
        raise ValidationError(
            f"the default CA {authority.name!r} has no profile {CLIENT_PROFILE!r}: a tenant admin creates one",
            code="profile_missing",
        )
    return found
