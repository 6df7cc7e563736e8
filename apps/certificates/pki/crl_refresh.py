"""Keeping every CA's CRL fresh: beat signs a new one at half-life (or when a CA has none yet), the
public endpoints sign one when a CA has none or its last one expired (beat stopped), and a CA's CRL
validity is set here. A retired CA keeps publishing until the last certificate it signed expires; a CA
whose own certificate expired publishes no more (nothing it signed verifies any longer).

Safe under concurrency: a refresh locks the CA's row, then decides from the newest CRL it sees under
the lock, so a beat pass, a revocation and a hundred first requests at once sign one CRL, not many."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.selectors import tenants_active
from apps.certificates.models import CaState, CertificateAuthority, RevocationList
from apps.certificates.pki.crl import crl_publish
from certmate.actors import Actor
from certmate.audit.services import audit_record

logger = logging.getLogger(__name__)

BEAT = Actor.system("CRL refresh")
# Beat's entry point (apps.certificates.tasks), by name.
CRL_REFRESH_TASK = "apps.certificates.tasks.crl_refresh_all_task"
FIRST_REQUEST = Actor.system("CRL requested")
MIN_VALIDITY_HOURS, MAX_VALIDITY_HOURS = 1, 8760  # an hour to a year
RETRY_AFTER_FAILURE_SECONDS = 60


def crl_authorities() -> QuerySet[CertificateAuthority]:
    """The CAs that publish a CRL: all but those still waiting for their certificate."""
    return CertificateAuthority.objects.exclude(state=CaState.PENDING).exclude(certificate_pem="")


def crl_latest(authority: CertificateAuthority) -> RevocationList | None:
    """The CA's newest CRL without its DER (what deciding and conditional requests need)."""
    return RevocationList.objects.filter(authority=authority).defer("der").order_by("-number").first()


def crl_wanted(authority: CertificateAuthority, *, now: datetime) -> bool:
    """Whether relying parties still need fresh CRLs from ``authority``."""
    if authority.not_after is not None and authority.not_after <= now:
        return False
    if authority.state != CaState.RETIRED:
        return True
    return authority.issued.filter(not_after__gt=now).exists() or authority.children.filter(not_after__gt=now).exists()


def crl_half_life_passed(authority: CertificateAuthority, current: RevocationList | None, now: datetime) -> bool:
    """Beat's rule: no CRL yet, or half its validity gone (the CA's validity now, if shorter)."""
    if current is None:
        return True
    span = min(current.next_update - current.this_update, timedelta(hours=authority.crl_validity_hours))
    return now >= current.this_update + span / 2


def crl_missing_or_expired(authority: CertificateAuthority, current: RevocationList | None, now: datetime) -> bool:
    """The public endpoints' rule: nothing valid to serve."""
    return current is None or current.next_update <= now


def crl_always(authority: CertificateAuthority, current: RevocationList | None, now: datetime) -> bool:
    """An operator's rule (``pki crl publish``): a new CRL now."""
    return True


Due = Callable[[CertificateAuthority, RevocationList | None, datetime], bool]


def crl_refresh(
    *, authority: CertificateAuthority, actor: Actor, now: datetime | None = None, due: Due = crl_half_life_passed
) -> RevocationList | None:
    """Sign a new CRL for ``authority`` when ``due`` says its newest one calls for it (judged under
    the CA's row lock); the new CRL, or None when the one there is still good."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = CertificateAuthority.objects.select_for_update().get(pk=authority.pk)
        current = crl_latest(locked)
        if not due(locked, current, now):
            return None
        published = crl_publish(authority=locked, now=now)
        audit_record(actor=actor, action="certificate_authority.crl_published", target=locked, changes={
            "crl_number": [current.number if current else None, published.number],
            "next_update": [current.next_update if current else None, published.next_update],
        })  # fmt: skip
    return published


def crl_for_serving(authority: CertificateAuthority, *, now: datetime | None = None) -> RevocationList | None:
    """The CRL to serve for ``authority`` (without its DER): the newest one, signed first if there is
    none or it expired while the CA still needs CRLs. None: the CA has no CRL (and needs none, or
    signing one failed: then the requests of the next minute do not try again)."""
    now = now or timezone.now()
    current = crl_latest(authority)
    if not crl_missing_or_expired(authority, current, now) or not crl_wanted(authority, now=now):
        return current
    failed = f"crl-on-request-failed:{authority.pk}"  # the cache's keys carry the tenant's schema
    if cache.get(failed):
        return current
    try:
        crl_refresh(authority=authority, actor=FIRST_REQUEST, now=now, due=crl_missing_or_expired)
    except Exception:
        # Anonymous requests must not make certmate try (and fail) to sign a CRL each time.
        logger.exception("signing a CRL for CA %s on request failed", authority.name)
        cache.set(failed, True, RETRY_AFTER_FAILURE_SECONDS)
        return current
    return crl_latest(authority)


def crl_der(crl: RevocationList) -> bytes | None:
    """The DER of ``crl`` (read apart: a CRL of 100,000 entries is about 5 MB); None if it was pruned."""
    der = RevocationList.objects.filter(pk=crl.pk).values_list("der", flat=True).first()
    return None if der is None else bytes(der)


def ca_crl_validity_set(*, authority: CertificateAuthority, hours: int, actor: Actor) -> CertificateAuthority:
    """How long the CA's CRLs are valid (nextUpdate - thisUpdate), 1 to 8,760 hours; beat signs a new one
    at half of it. The CRL already published keeps its own nextUpdate; a shorter validity is applied at
    the next beat pass."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not MIN_VALIDITY_HOURS <= hours <= MAX_VALIDITY_HOURS:
        raise ValidationError(
            {"crl_validity_hours": f"a whole number of hours from {MIN_VALIDITY_HOURS} to {MAX_VALIDITY_HOURS}"},
            code="invalid",
        )
    with transaction.atomic():
        locked = CertificateAuthority.objects.select_for_update().get(pk=authority.pk)
        if locked.crl_validity_hours == hours:
            return locked
        before = locked.crl_validity_hours
        locked.crl_validity_hours = hours
        locked.save(update_fields=["crl_validity_hours"])
        audit_record(actor=actor, action="certificate_authority.crl_validity_changed", target=locked,
                     changes={"crl_validity_hours": [before, hours]})  # fmt: skip
    return locked


@dataclass
class CrlSweep:
    """One tenant's beat pass: the CAs looked at, those given a new CRL, those that failed."""

    tenant: str = ""
    checked: int = 0
    published: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def crls_refresh(*, now: datetime | None = None, actor: Actor = BEAT) -> CrlSweep:
    """The current tenant's beat pass: a new CRL for each CA that still needs them and is at half-life."""
    now = now or timezone.now()
    sweep = CrlSweep()
    for authority in crl_authorities().defer("private_key").order_by("pk"):
        if not crl_wanted(authority, now=now):
            continue
        sweep.checked += 1
        try:
            if crl_refresh(authority=authority, actor=actor, now=now) is not None:
                sweep.published.append(authority.name)
        except Exception:
            # One CA's trouble (a key that no longer decrypts) must not leave the others' CRLs to expire.
            logger.exception("CRL refresh of CA %s failed", authority.name)
            sweep.failed.append(authority.name)
    return sweep


def crls_refresh_all(*, slugs: list[str] | None = None, now: datetime | None = None) -> list[CrlSweep]:
    """The beat pass of every active tenant (or the ones named), each in its own schema."""
    sweeps = []
    for tenant in tenants_active(slugs=slugs):
        with tenant_context(tenant):
            try:
                sweep = crls_refresh(now=now)
            except Exception:
                logger.exception("CRL refresh of tenant %s failed", tenant.schema_name)
                continue
        sweep.tenant = tenant.schema_name
        sweeps.append(sweep)
    return sweeps
