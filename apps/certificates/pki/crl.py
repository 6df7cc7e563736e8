"""Certificate revocation lists: one per CA, signed by the CA's key, numbered monotonically (the number
allocated under a lock on the CA's row, so two revocations at once never share one), with the reason
and invalidity date of each entry. A new CRL is signed on every revocation and by beat at half-life."""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.utils import timezone

from apps.certificates.models import CertificateAuthority, CertificateVersion, RevocationList
from apps.certificates.pki.keys import key_load, signing_hash
from apps.certificates.revocation_reasons import RFC5280_CODES

# RFC 5280 reason names (certmate's lowercase spelling) -> cryptography's flags.
_FLAGS = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keycompromise": x509.ReasonFlags.key_compromise,
    "cacompromise": x509.ReasonFlags.ca_compromise,
    "affiliationchanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationofoperation": x509.ReasonFlags.cessation_of_operation,
    "certificatehold": x509.ReasonFlags.certificate_hold,
    "privilegewithdrawn": x509.ReasonFlags.privilege_withdrawn,
    "aacompromise": x509.ReasonFlags.aa_compromise,
}
assert set(_FLAGS) == set(RFC5280_CODES) - {"removefromcrl"}
KEEP_CRLS = 5  # the newest few stay (for a CRL fetched just before a new one replaced it)


def reason_flag(reason: str) -> x509.ReasonFlags:
    return _FLAGS.get(reason, x509.ReasonFlags.unspecified)


def _entry(serial: int, revoked_at: datetime, reason: str, invalidity: datetime | None) -> x509.RevokedCertificate:
    builder = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
    if reason and reason != "unspecified":  # RFC 5280: absent rather than unspecified
        builder = builder.add_extension(x509.CRLReason(reason_flag(reason)), critical=False)
    if invalidity is not None:
        builder = builder.add_extension(x509.InvalidityDate(invalidity.replace(tzinfo=None)), critical=False)
    return builder.build()


def revoked_entries(authority: CertificateAuthority):
    """(serial, revoked_at, reason, invalidity_date) of everything ``authority`` revoked: its versions
    and, for a root, its revoked intermediates. Streamed: 100,000 rows never sit in memory as models."""
    versions = (
        CertificateVersion.objects.filter(authority=authority, revoked_at__isnull=False)
        .values_list("serial", "revoked_at", "revocation_reason", "invalidity_date")
        .order_by()
        .iterator(chunk_size=5000)
    )
    for serial, revoked_at, reason, invalidity in versions:
        yield int(serial, 16), revoked_at, reason, invalidity
    children = authority.children.filter(revoked_at__isnull=False).values_list(
        "serial", "revoked_at", "revocation_reason"
    )
    for serial, revoked_at, reason in children.values_list("serial", "revoked_at", "revocation_reason"):
        yield int(serial, 16), revoked_at, reason, None


def crl_build(
    authority: CertificateAuthority, *, number: int, now: datetime
) -> tuple[x509.CertificateRevocationList, int]:
    issuer = x509.load_pem_x509_certificate(authority.certificate_pem.encode())
    key = key_load(authority.private_key)
    # The entries go in whole: add_revoked_certificate copies the builder's list on every call, which
    # grows with the square of the count (7 to 13 s for 100,000 entries instead of 0.4 s; bench/crl.py).
    entries = [_entry(*row) for row in revoked_entries(authority)]
    builder = (
        x509.CertificateRevocationListBuilder(revoked_certificates=entries)
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(now + timedelta(hours=authority.crl_validity_hours))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False)
    )
    return builder.sign(key, signing_hash(key)), len(entries)


def crl_publish(*, authority: CertificateAuthority, now: datetime | None = None) -> RevocationList:
    """Sign and store the CA's next CRL (call it in the transaction that revoked something, so the CRL
    and the revocation commit together). Numbers never repeat, even for two calls at once."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = CertificateAuthority.objects.select_for_update().get(pk=authority.pk)
        locked.crl_number += 1
        locked.save(update_fields=["crl_number"])
        crl, count = crl_build(locked, number=locked.crl_number, now=now)
        published = RevocationList.objects.create(
            authority=locked,
            number=locked.crl_number,
            this_update=crl.last_update_utc,
            next_update=crl.next_update_utc,
            entries=count,
            der=crl.public_bytes(serialization.Encoding.DER),
        )
        stale = (
            RevocationList.objects.filter(authority=locked).order_by("-number").values_list("pk", flat=True)[KEEP_CRLS:]
        )
        RevocationList.objects.filter(pk__in=list(stale)).delete()
    return published


def crl_current(authority: CertificateAuthority) -> RevocationList | None:
    return RevocationList.objects.filter(authority=authority).order_by("-number").first()
