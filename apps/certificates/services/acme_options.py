"""How an ACME certificate is ordered beyond its accounts: its challenge (dns-01 or http-01, with an
optional webroot), its ACME profile, and its fallback chain of CA accounts. Validation and storing,
shared by certificate_request and certificate_update."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection

from apps.certificates.acme.runner import PROFILE_NAME
from apps.certificates.acme.webroot import webroot_clean
from apps.certificates.models import CaAccount, Certificate, CertificateFallback, Challenge

MAX_FALLBACKS = 5
MAX_FALLBACK_POSITION = 100


def challenge_clean(challenge: str, names: list[str]) -> str:
    if challenge not in Challenge.values:
        raise ValidationError(
            {"challenge": ValidationError(f"use one of {', '.join(Challenge.values)}", code="invalid_challenge")}
        )
    wildcards = [name for name in names if name.startswith("*.")]
    if challenge == Challenge.HTTP_01 and wildcards:
        raise ValidationError(
            {
                "challenge": ValidationError(
                    f"{wildcards[0]}: a wildcard name can only be validated with dns-01 (CAs refuse http-01 for "
                    "wildcards): choose dns-01 for this certificate, or drop the wildcard",
                    code="wildcard_http01",
                )
            }
        )
    return challenge


def certificate_webroot_clean(webroot: str, challenge: str) -> str:
    if not webroot:
        return ""
    if challenge != Challenge.HTTP_01:
        raise ValidationError(
            {"webroot": ValidationError("a webroot is for http-01 only: clear it or choose http-01", code="invalid")}
        )
    try:
        return webroot_clean(webroot, tenant_slug=connection.schema_name)
    except ValidationError as exc:
        raise ValidationError({"webroot": exc}) from None


def acme_profile_clean(profile: str, ca_account: CaAccount | None) -> str:
    """An ACME profile name; one the CA account's directory lists when it has been read."""
    if not profile:
        return ""
    if not isinstance(profile, str) or not PROFILE_NAME.fullmatch(profile):
        raise ValidationError(
            {"acme_profile": ValidationError("a profile name: letters, digits, '.', '-', '_'", code="invalid")}
        )
    if ca_account is not None and ca_account.directory_read_at is not None and profile not in ca_account.profiles:
        offered = ", ".join(sorted(ca_account.profiles)) or "none"
        raise ValidationError(
            {
                "acme_profile": ValidationError(
                    f"CA account {ca_account.name!r} offers no profile {profile!r} (its directory lists: {offered})",
                    code="unknown_profile",
                )
            }
        )
    return profile


def fallback_clean(accounts: list[CaAccount], primary: CaAccount | None) -> list[CaAccount]:
    """The fallback chain as stored: distinct accounts other than the certificate's own, at most five."""
    chain: list[CaAccount] = []
    for account in accounts:
        if (primary is None or account.pk != primary.pk) and all(account.pk != kept.pk for kept in chain):
            chain.append(account)
    if len(chain) > MAX_FALLBACKS:
        raise ValidationError(
            {"fallback_ca_accounts": ValidationError(f"at most {MAX_FALLBACKS} CA accounts", code="too_many")}
        )
    return chain


def fallback_position_clean(position: int | None, *, account: CaAccount | None = None) -> int | None:
    """A place in the tenant's default fallback chain (1 first; ties in the order the accounts were made),
    which holds at most MAX_FALLBACKS accounts: each is one more certbot run for a failing order."""
    if position is None:
        return None
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= MAX_FALLBACK_POSITION:
        raise ValidationError(
            {"fallback_position": ValidationError(f"a position from 1 to {MAX_FALLBACK_POSITION}", code="invalid")}
        )
    others = CaAccount.objects.filter(fallback_position__isnull=False)
    if account is not None:
        others = others.exclude(pk=account.pk)
    if others.count() >= MAX_FALLBACKS:
        names = ", ".join(sorted(others.values_list("name", flat=True)))
        message = (
            f"the tenant's default fallback chain holds at most {MAX_FALLBACKS} CA accounts ({names}): take one out"
        )
        raise ValidationError({"fallback_position": ValidationError(message, code="too_many")})
    return position


def fallback_differs(certificate: Certificate, accounts: list[CaAccount]) -> bool:
    before = list(certificate.fallbacks.order_by("position").values_list("ca_account_id", flat=True))
    return before != [account.pk for account in accounts]


def fallback_set(certificate: Certificate, accounts: list[CaAccount]) -> bool:
    """Store the certificate's fallback chain; True if it changed."""
    if not fallback_differs(certificate, accounts):
        return False
    certificate.fallbacks.all().delete()
    CertificateFallback.objects.bulk_create(
        CertificateFallback(certificate=certificate, ca_account=account, position=index)
        for index, account in enumerate(accounts, start=1)
    )
    return True


def fallback_names(certificate: Certificate) -> list[str]:
    if certificate.pk is None:
        return []
    return [row.ca_account.name for row in certificate.fallbacks.select_related("ca_account").order_by("position")]


def issuer_chain(certificate: Certificate) -> list[CaAccount]:
    """The CA accounts an order tries, in order: the certificate's own, then its fallback chain, or the
    tenant's default chain (CA accounts with a fallback position, the first MAX_FALLBACKS of them) when
    it has none of its own."""
    own = [row.ca_account for row in certificate.fallbacks.select_related("ca_account").order_by("position")]
    default = CaAccount.objects.filter(fallback_position__isnull=False).order_by("fallback_position", "pk")
    rest = own or list(default[:MAX_FALLBACKS])
    chain = [certificate.ca_account] if certificate.ca_account_id else []
    for account in rest:
        if all(account.pk != kept.pk for kept in chain):
            chain.append(account)
    return chain
