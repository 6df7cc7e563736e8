"""The ARI refresh (RFC 9773): ask each due certificate's CA for its suggested renewal window, keep it, and
move the certificate's renewal date into it (services/due.py decides where). Per tenant, from beat every
CERTMATE_ARI_INTERVAL_SECONDS; certificates whose CA offers no ARI keep the threshold rule untouched.

Safe to run twice at once: a run first claims the certificates it asks about (their next check moves
out under a row lock, skipping rows another run holds), and a window is stored only for the version it
was asked for (a renewal that stored a new version meanwhile wins)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.certificates.acme.ari import AriError, RenewalWindow, cert_id, renewal_window_get
from apps.certificates.acme.directory import MAX_AGE, ca_account_directory_ensure
from apps.certificates.models import CaAccount, Certificate, CertificateStatus, TenantSettings
from apps.certificates.services.auditing import certificate_audit
from apps.certificates.services.due import certificate_renew_at
from certmate.actors import Actor
from certmate.audit.services import audit_changes

logger = logging.getLogger(__name__)

ARI = Actor.system("ARI refresh")
MAX_PER_RUN = 500  # the rest waits for the next run (each may take seconds at its CA)


@dataclass
class AriRefresh:
    asked: int = 0
    moved: int = 0  # certificates whose renewal date the window moved
    failed: int = 0


def certificates_ari_due(*, now: datetime) -> QuerySet[Certificate]:
    """Auto-renewed ACME certificates with a current version not yet expired (RFC 9773: never asked after
    expiry), whose issuing CA account offers ARI (the account that issued the current version, a fallback
    one included; the certificate's own for versions from before they recorded theirs), and whose next
    check is due."""
    issued_by_ari_ca = Q(current_version__ca_account__isnull=False) & ~Q(
        current_version__ca_account__renewal_info_url=""
    )
    own_ari_ca = Q(current_version__ca_account__isnull=True, ca_account__isnull=False) & ~Q(
        ca_account__renewal_info_url=""
    )
    return Certificate.objects.filter(
        Q(ari_next_check__isnull=True) | Q(ari_next_check__lte=now),
        issued_by_ari_ca | own_ari_ca,
        auto_renew=True,
        authority__isnull=True,
        current_version__isnull=False,
        current_version__not_after__gt=now,
    )


def certificates_ari_refresh(*, now: datetime | None = None) -> AriRefresh:
    """The current tenant's refresh: directories a day old read again, then each due certificate asked."""
    now = now or timezone.now()
    _directories_refresh(now)
    interval = timedelta(seconds=settings.CERTMATE_ARI_INTERVAL_SECONDS)
    with transaction.atomic():
        due = certificates_ari_due(now=now).order_by("ari_next_check", "pk")
        ids = list(due.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:MAX_PER_RUN])
        # Claimed: a concurrent run skips them; a run that dies leaves them to the next one.
        Certificate.objects.filter(pk__in=ids).update(ari_next_check=now + interval)
    summary = AriRefresh()
    threshold = TenantSettings.load().renewal_threshold_days
    for pk in ids:
        certificate = (
            Certificate.objects.select_related("current_version__ca_account", "ca_account").filter(pk=pk).first()
        )
        if certificate is None:
            continue
        summary.asked += 1
        try:
            window = _window_of(certificate, now)
        except AriError as exc:
            summary.failed += 1
            logger.warning(
                "ARI: no renewal window for %s (CA account %s): %s; the threshold rule stands, asked again after %s",
                certificate.identifier, issuing_account(certificate).name, exc.message, now + interval,
            )  # fmt: skip
            continue
        except Exception:  # one certificate's surprise never costs the others their turn (they are claimed)
            summary.failed += 1
            logger.exception("ARI: asking for %s's renewal window failed; the threshold rule stands", certificate)
            continue
        summary.moved += certificate_ari_store(
            certificate_id=pk, version_id=certificate.current_version_id, window=window, now=now,
            threshold_days=threshold, actor=ARI,
        )  # fmt: skip
    return summary


def _directories_refresh(now: datetime) -> None:
    """The CA accounts of auto-renewed certificates whose directory was never read or a day ago: a CA may
    have added (or dropped) ARI since."""
    in_use = Q(certificates__auto_renew=True, certificates__current_version__isnull=False) | Q(
        issued_versions__certificate__auto_renew=True  # a fallback account that issued a version
    )
    stale = CaAccount.objects.filter(
        Q(directory_read_at__isnull=True) | Q(directory_read_at__lt=now - MAX_AGE), in_use
    ).distinct()
    for account in stale:
        ca_account_directory_ensure(account=account, actor=ARI, max_age=MAX_AGE)


def issuing_account(certificate: Certificate) -> CaAccount:
    """The CA account to ask about the current version: the one that issued it (a fallback account too),
    else (versions from before they recorded it) the certificate's own."""
    return certificate.current_version.ca_account or certificate.ca_account


def _window_of(certificate: Certificate, now: datetime) -> RenewalWindow:
    try:
        certificate_id = cert_id(certificate.current_version.certificate_pem)
    except ValueError as exc:
        raise AriError(str(exc)) from None
    account = issuing_account(certificate)
    return renewal_window_get(
        renewal_info_url=account.renewal_info_url,
        certificate_id=certificate_id,
        trust_bundle=account.trust_bundle,
        now=now,
    )


def certificate_ari_store(
    *, certificate_id: int, version_id: int, window: RenewalWindow, now: datetime, threshold_days: int, actor: Actor
) -> bool:
    """Keep ``window`` for the certificate's version ``version_id`` (nothing if another is current now) and
    move its renewal date; True if the date moved. A changed window is recorded as
    ``certificate.renewal_window`` (asking again and hearing the same is not a change). A certificate
    whose last renewal failed keeps the retry date its failures set."""
    interval = timedelta(seconds=settings.CERTMATE_ARI_INTERVAL_SECONDS)
    # Asked at most every interval; later when the CA's Retry-After says so (bounded in ari.py).
    next_check = now + max(interval, window.retry_after or interval)
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update(of=("self",))
            .select_related("current_version")
            .filter(pk=certificate_id, current_version_id=version_id)
            .first()
        )
        if certificate is None:
            return False
        before = {"window": _window_text(certificate.ari_window_start, certificate.ari_window_end),
                  "renew_at": certificate.renew_at}  # fmt: skip
        certificate.ari_window_start, certificate.ari_window_end = window.start, window.end
        certificate.ari_checked_at, certificate.ari_next_check = now, next_check
        fields = ["ari_window_start", "ari_window_end", "ari_checked_at", "ari_next_check"]
        if certificate.status != CertificateStatus.FAILED:
            certificate.renew_at = certificate_renew_at(
                certificate, certificate.current_version, threshold_days, now=now
            )
            fields.append("renew_at")
        certificate.save(update_fields=fields)
        after = {"window": _window_text(window.start, window.end), "renew_at": certificate.renew_at}
        if before["window"] != after["window"]:
            certificate_audit(
                actor=actor, action="certificate.renewal_window", certificate=certificate,
                changes=audit_changes(before, after),
            )  # fmt: skip
    return before["renew_at"] != certificate.renew_at


def _window_text(start: datetime | None, end: datetime | None) -> str | None:
    return f"{start.astimezone(UTC).isoformat()} / {end.astimezone(UTC).isoformat()}" if start and end else None
