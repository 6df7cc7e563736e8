"""Bringing existing certificates in from elsewhere (CertMate): their issuances, as they were, become
versions — no order is placed, no event is raised (nothing new was issued; renewals take over from the
next due date). What ``version_make_current`` cannot express: several past versions at once, each
keeping its own material and revocation.

Writes record ``certificate.imported`` (the versions added, by number)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from apps.certificates.models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    CertificateVersion,
    KeyType,
    TenantSettings,
)
from apps.certificates.parsing import CertificateFacts, certificate_facts
from apps.certificates.services.acme_options import challenge_clean
from apps.certificates.services.auditing import certificate_audit
from apps.certificates.services.due import certificate_ari_clear, certificate_renew_at
from certmate.actors import Actor

_KEY_TYPES = {("RSA", 2048): KeyType.RSA2048, ("RSA", 3072): KeyType.RSA3072, ("RSA", 4096): KeyType.RSA4096}
_KEY_TYPES |= {("EC", 256): KeyType.EC256, ("EC", 384): KeyType.EC384, ("Ed25519", 256): "ed25519"}


@dataclass(frozen=True)
class ExistingVersion:
    """One past issuance as found: its PEMs (the key may be empty) and, if revoked, when and why."""

    cert_pem: str
    chain_pem: str = ""
    fullchain_pem: str = ""
    key_pem: str = ""
    revoked_at: datetime | None = None
    revocation_reason: str = ""
    facts: CertificateFacts | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CertificateImported:
    certificate: Certificate
    added: list[int]  # the numbers of the versions added
    known: int  # versions already there (by fingerprint)


def key_type_of(facts: CertificateFacts) -> str | None:
    """certmate's key type for a version's key (None for one certmate does not order, e.g. RSA 1024)."""
    return _KEY_TYPES.get((facts.key_algorithm, facts.key_size))


# No savepoint of its own when called inside a transaction (an import calls it thousands of times, each
# inside a savepoint of the importer's): atomic on its own otherwise.
@transaction.atomic(savepoint=False)
def certificate_import(
    *,
    kind: str,
    identifier: str,
    versions: list[ExistingVersion],
    san_domains: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    renewal_threshold_days: int | None = None,
    actor: Actor,
) -> CertificateImported:
    """The certificate ``identifier`` with ``versions`` (oldest first) added after the ones it has; a
    version already stored (same fingerprint) is not added again, so importing twice adds nothing. The
    newest version becomes current. ``settings``: fields of a new certificate (accounts, authority,
    auto_renew, renew_before_days, usage, notes, subject_fields, key_type, challenge: checked as a request's
    is); an existing one keeps its own.
    ``renewal_threshold_days``: the tenant's, when the caller has it at hand (else it is read)."""
    kind = CertificateKind(kind)
    # Queries are counted here: an import brings thousands of certificates in one transaction.
    certificate = Certificate.objects.select_for_update().filter(kind=kind, identifier=identifier).first()
    created = certificate is None
    if created:
        if "challenge" in (settings or {}):
            challenge_clean(settings["challenge"], [identifier, *(san_domains or [])])
        certificate = Certificate.objects.create(
            kind=kind, identifier=identifier, san_domains=list(san_domains or []), **(settings or {})
        )
    facts_of = [(version, version.facts or certificate_facts(version.cert_pem)) for version in versions]
    stored: dict[str, int] = {}
    if not created:  # a new certificate has no versions; one stored elsewhere trips the unique index below
        found = CertificateVersion.objects.filter(fingerprint_sha256__in=[f.fingerprint_sha256 for _, f in facts_of])
        stored = dict(found.values_list("fingerprint_sha256", "certificate_id"))
        elsewhere = sorted(fp for fp, owner in stored.items() if owner != certificate.pk)
        if elsewhere:
            raise _stored_elsewhere(identifier, elsewhere[0])
    fresh = []
    for version, facts in facts_of:
        if facts.fingerprint_sha256 not in stored:
            stored[facts.fingerprint_sha256] = certificate.pk
            fresh.append((version, facts))
    known = 0 if created else certificate.versions.count()
    if not fresh:
        return CertificateImported(certificate=certificate, added=[], known=known)
    number = 0 if created else certificate.versions.aggregate(n=Max("number"))["n"] or 0
    rows = []
    for version, facts in fresh:
        number += 1
        rows.append(
            CertificateVersion(
                certificate=certificate,
                number=number,
                certificate_pem=version.cert_pem,
                chain_pem=version.chain_pem,
                fullchain_pem=version.fullchain_pem or version.cert_pem + version.chain_pem,
                private_key=version.key_pem,
                authority_id=certificate.authority_id,
                revoked_at=version.revoked_at,
                revocation_reason=version.revocation_reason,
                **facts.__dict__,
            )
        )
    try:
        CertificateVersion.objects.bulk_create(rows)
    except IntegrityError:
        # The caller's transaction (or savepoint) is rolled back with this error.
        raise _stored_elsewhere(identifier, "") from None
    if renewal_threshold_days is None:
        renewal_threshold_days = TenantSettings.load().renewal_threshold_days
    detect = created and "key_type" not in (settings or {})
    _make_newest_current(certificate, rows[-1], renewal_threshold_days, newest_facts=fresh[-1][1] if detect else None)
    added = [row.number for row in rows]
    changes = {"versions": [known, known + len(added)], "imported": added}
    certificate_audit(actor=actor, action="certificate.imported", certificate=certificate, changes=changes)
    return CertificateImported(certificate=certificate, added=added, known=known)


def _stored_elsewhere(identifier: str, fingerprint: str) -> ValidationError:
    which = f" (fingerprint {fingerprint[:16]}…)" if fingerprint else ""
    return ValidationError(
        f"a version of {identifier}{which} is already stored under another certificate", code="version_elsewhere"
    )


def _make_newest_current(
    certificate: Certificate, newest: CertificateVersion, threshold: int, *, newest_facts: CertificateFacts | None
) -> None:
    replaced = certificate.current_version_id != newest.pk
    certificate.current_version = newest
    certificate.status = CertificateStatus.ACTIVE
    certificate.last_error = ""
    fields = ["current_version", "status", "last_error", "renew_at", "updated_at"]
    if replaced:
        fields += certificate_ari_clear(certificate)
    certificate.renew_at = certificate_renew_at(certificate, newest, threshold)
    # A new certificate's key type is its newest key's, so renewals keep it.
    if newest_facts is not None:
        detected = key_type_of(newest_facts)
        if detected:
            certificate.key_type = detected
            fields.append("key_type")
    certificate.save(update_fields=fields)
