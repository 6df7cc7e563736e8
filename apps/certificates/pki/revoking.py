"""Revoking what a tenant's private CAs signed, at once (no job: certmate is the CA): a certificate
version (by its row or by its serial), a hold lifted (removeFromCRL), an intermediate CA. Each write is
one transaction with the CA's next CRL (a revocation never commits without the CRL that lists it), the
certificate's ``revoked`` event (storage republishes metadata.json) and its audit record. Asking again
for what is already recorded changes nothing and records nothing (no second audit, no second CRL).

A revoked or held current version is not renewed by the sweep (its renewal time is cleared; lifting a
hold sets it again): certmate never re-issues on its own what someone revoked."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.certificates.models import (
    CaOrigin,
    CaState,
    Certificate,
    CertificateAuthority,
    CertificateVersion,
    EventKind,
    TenantSettings,
)
from apps.certificates.pki.crl import crl_publish
from apps.certificates.pki.revocation_rules import (
    CA_REQUEST_REASONS,
    HOLD,
    field_error,
    invalidity_date_clean,
    reason_clean,
    revocation_outcome,
    serial_candidates,
)
from apps.certificates.services.auditing import certificate_audit
from apps.certificates.services.due import certificate_renew_at
from apps.certificates.services.events import event_record
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record
from certmate.errors import NotFound

_NOTE_LENGTH = 200


def _locked(version: CertificateVersion) -> CertificateVersion:
    """The version's row, locked, with its certificate and CA; refused for an ACME version. Its
    certificate's row is locked first, in the order renewals and certificate_revoke lock them (a
    certificate, then a version, then its CA), so no two writers ever wait for each other in a circle."""
    Certificate.objects.select_for_update().filter(pk=version.certificate_id).values_list("pk", flat=True).first()
    locked = (
        CertificateVersion.objects.select_for_update(of=("self",))
        .select_related("certificate", "authority")
        .get(pk=version.pk)
    )
    if locked.authority_id is None:
        raise ValidationError(
            f"{locked} was issued through ACME: revoke it at its CA (POST /api/certificates/{{domain}}/revoke)",
            code="not_private",
        )
    return locked


def _state(version: CertificateVersion) -> dict:
    return {
        "revoked_at": version.revoked_at,
        "revocation_reason": version.revocation_reason,
        "invalidity_date": version.invalidity_date,
    }


def _recorded(version: CertificateVersion, *, action: str, reason: str, before: dict, actor: Actor, note: str) -> None:
    """The event (storage republishes a current version) and the audit record of a change just saved."""
    certificate = version.certificate
    event_record(kind=EventKind.REVOKED, certificate=certificate, version=version,
                 detail={"reason": reason, "serial": version.serial})  # fmt: skip
    changes = {"version": version.number, "serial": version.serial, **audit_changes(before, _state(version))}
    if note:
        changes["note"] = note
    certificate_audit(actor=actor, action=action, certificate=certificate, changes=changes)


def _renewal_follows(version: CertificateVersion, *, revoked: bool) -> None:
    """A revoked current version is not renewed by the sweep; lifting a hold schedules it again."""
    certificate = version.certificate
    if certificate.current_version_id != version.pk:
        return
    renew_at = None
    if not revoked:
        renew_at = certificate_renew_at(certificate, version, TenantSettings.load().renewal_threshold_days)
    Certificate.objects.filter(pk=certificate.pk).update(renew_at=renew_at, updated_at=timezone.now())


def private_version_revoke(
    *,
    version: CertificateVersion,
    reason: str,
    actor: Actor,
    invalidity_date: datetime | None = None,
    publish: bool = True,
    note: str = "",
) -> CertificateVersion:
    """Revoke a private CA's certificate version for ``reason`` (LEAF_REASONS; keyCompromise may carry
    ``invalidity_date``), expired or not. Asked again with the same reason: answered as it is. A held
    version is revoked for good by any other reason (since the hold began); a compromise learnt later
    replaces an earlier reason, an earlier invalidity date a later one (never the other way round);
    anything else about a revoked version is refused (code ``revoked``).
    ``publish=False`` leaves the CRL to the caller (a bulk revocation signs one at its end).
    ``note``: free text the audit record keeps beside the reason (CertMate's reasons are free text)."""
    reason = reason_clean(reason)
    with transaction.atomic():
        version = _locked(version)
        now = timezone.now()
        invalidity = invalidity_date_clean(invalidity_date, reason=reason, not_before=version.not_before, now=now)
        # An invalidity date only ever moves earlier: a later one would trust again what was signed between.
        known = version.invalidity_date if version.revoked_at is not None else None
        if invalidity is not None and known is not None:
            invalidity = min(invalidity, known)
        same_date = invalidity is None or invalidity == known
        outcome = revocation_outcome(revoked=version.revoked_at is not None, current=version.revocation_reason,
                                     reason=reason, same_date=same_date)  # fmt: skip
        if outcome == "same":
            return version
        before = _state(version)
        version.revoked_at = version.revoked_at or now
        version.revocation_reason = reason
        version.invalidity_date = invalidity if invalidity is not None else known
        version.save(update_fields=["revoked_at", "revocation_reason", "invalidity_date"])
        _renewal_follows(version, revoked=True)
        _recorded(version, action="certificate.revoked", reason=reason, before=before, actor=actor,
                  note=str(note).replace("\x00", "")[:_NOTE_LENGTH])  # fmt: skip
        if publish:
            crl_publish(authority=version.authority, now=now)
    return version


def private_version_unhold(*, version: CertificateVersion, actor: Actor) -> CertificateVersion:
    """Lift a hold (removeFromCRL): the version is valid again and leaves the CA's next CRL. A version
    that is not revoked is answered as it is; one revoked for another reason is refused (code
    ``revoked``: only a certificateHold is reversible)."""
    with transaction.atomic():
        version = _locked(version)
        if version.revoked_at is None:
            return version
        if version.revocation_reason != HOLD:
            raise ValidationError(
                f"{version} was revoked for good ({version.revocation_reason or 'unspecified'}): only a hold "
                "(certificatehold) can be lifted",
                code="revoked",
            )
        before = _state(version)
        version.revoked_at, version.revocation_reason, version.invalidity_date = None, "", None
        version.save(update_fields=["revoked_at", "revocation_reason", "invalidity_date"])
        _renewal_follows(version, revoked=False)
        _recorded(version, action="certificate.hold_lifted", reason="removefromcrl", before=before, actor=actor,
                  note="")  # fmt: skip
        crl_publish(authority=version.authority)
    return version


def private_version_by_serial(*, authority: CertificateAuthority, serial) -> CertificateVersion:
    """The version ``authority`` signed with this serial (hex or decimal, see serial_candidates)."""
    found = list(CertificateVersion.objects.filter(authority=authority, serial__in=serial_candidates(serial))[:2])
    if len(found) > 1:
        raise field_error(
            "serial", f"{str(serial)[:64]!r} is a serial in hex and another in decimal: prefix hex with 0x", "ambiguous"
        )
    if not found:
        raise NotFound(f"CA {authority.name!r} signed no certificate with serial {str(serial)[:64]!r}")
    return found[0]


def private_revoke_by_serial(
    *, authority: CertificateAuthority, serial_hex, reason: str, actor: Actor, invalidity_date: datetime | None = None
) -> CertificateVersion:
    """Revoke the version ``authority`` signed with this serial (``serial_hex``: hex as openssl prints
    it, 0x-prefixed, or decimal as CertMate shows it); NotFound when it signed none."""
    version = private_version_by_serial(authority=authority, serial=serial_hex)
    return private_version_revoke(version=version, reason=reason, actor=actor, invalidity_date=invalidity_date)


def _revocable(authority: CertificateAuthority) -> None:
    if authority.parent_id is None:
        where = (
            "it is a root: nothing above it can list it. Retire it, and remove it from the trust stores that hold it"
            if authority.origin == CaOrigin.ROOT
            else "it was signed outside certmate: revoke it at the CA that signed it, and retire it here"
        )
        raise ValidationError(f"CA {authority.name!r} cannot be revoked here: {where}", code="not_revocable")
    if not authority.certificate_pem:
        raise ValidationError(f"CA {authority.name!r} has no certificate yet: nothing to revoke", code="pending")


def ca_revoke(*, authority: CertificateAuthority, reason: str, actor: Actor) -> CertificateAuthority:
    """Revoke an intermediate made under one of the tenant's roots: it is listed in its parent's CRL
    (signed now, in this transaction) and retired (it issues nothing again, and is no longer the default
    CA). ``keycompromise`` is recorded as cACompromise, a CA's own. A root, or a CA signed outside
    certmate, is refused (code ``not_revocable``). Repeating it changes nothing."""
    reason = reason_clean(reason, allowed=CA_REQUEST_REASONS)
    reason = "cacompromise" if reason == "keycompromise" else reason
    with transaction.atomic():
        rows = CertificateAuthority.objects.select_for_update(of=("self",)).select_related("parent")
        authority = rows.get(pk=authority.pk)
        _revocable(authority)
        outcome = revocation_outcome(revoked=authority.revoked_at is not None, current=authority.revocation_reason,
                                     reason=reason, same_date=True)  # fmt: skip
        if outcome == "same":
            return authority
        fields = ("revoked_at", "revocation_reason", "state", "is_default")
        before = {field: getattr(authority, field) for field in fields}
        authority.revoked_at = authority.revoked_at or timezone.now()
        authority.revocation_reason = reason
        authority.state = CaState.RETIRED
        authority.is_default = False  # the client-certificate endpoints then get another default
        authority.save(update_fields=list(fields))
        after = {field: getattr(authority, field) for field in fields}
        audit_record(actor=actor, action="certificate_authority.revoked", target=authority,
                     changes={"parent": authority.parent.name, **audit_changes(before, after)})  # fmt: skip
        crl_publish(authority=authority.parent)
    return authority
