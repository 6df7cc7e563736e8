"""Delegated OCSP responders: per CA, a key of its own and a short-lived certificate the CA signed
(id-kp-OCSPSigning, OCSP no-check, digitalSignature, CA:false), so the CA's key never signs an OCSP
response. One is made on first need (under a lock on the CA's row: two requests at once make one) and
beat makes the next one before it expires; each one made is audited."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.selectors import tenants_active
from apps.certificates.models import CertificateAuthority, OcspResponder
from apps.certificates.pki.build import BACKDATE, subject_name
from apps.certificates.pki.keys import PrivateKey, key_generate, key_load, key_pem, signing_hash
from apps.certificates.pki.models import CaKeyType
from certmate.actors import Actor
from certmate.audit.services import audit_record

logger = logging.getLogger(__name__)

RESPONDER_DAYS = 7
RENEW_BEFORE = timedelta(days=3)  # beat makes the next responder when the newest has less left
USABLE_FOR = timedelta(hours=2)  # a responder with less left is never used: one is made at once
KEEP_EXPIRED = timedelta(days=1)  # then expired responders are deleted
RENEWAL_INTERVAL_SECONDS = 6 * 3600  # how often beat looks (well within RENEW_BEFORE)
RESPONDER_ACTOR = Actor.system("OCSP responder")
RENEWAL_ACTOR = Actor.system("OCSP responder renewal")
# The responder's key: the CA's family, at the size that signs fastest.
_KEY_TYPES = {
    CaKeyType.EC256: CaKeyType.EC256,
    CaKeyType.EC384: CaKeyType.EC256,
    CaKeyType.RSA2048: CaKeyType.RSA2048,
    CaKeyType.RSA3072: CaKeyType.RSA2048,
    CaKeyType.RSA4096: CaKeyType.RSA2048,
    CaKeyType.ED25519: CaKeyType.ED25519,
}


def _unavailable(authority: CertificateAuthority) -> ValidationError:
    return ValidationError(
        f"CA {authority.name!r} has no valid certificate to sign an OCSP responder with", code="ca_unavailable"
    )


def responder_certificate_build(
    issuer: x509.Certificate, issuer_key: PrivateKey, key: PrivateKey, *, now: datetime
) -> x509.Certificate:
    """The responder's certificate: signed by the CA, never valid past the CA's own end."""
    common = issuer.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    organization = issuer.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    name = f"{common[0].value if common else 'CA'}"[:49] + " OCSP Responder"
    public = key.public_key()
    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "key_cert_sign",
         "crl_sign", "encipher_only", "decipher_only"), False,
    )  # fmt: skip
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name(name, organization[0].value if organization else ""))
        .issuer_name(issuer.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + timedelta(days=RESPONDER_DAYS), issuer.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, **usage), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        # RFC 6960 4.2.2.2.1: relying parties need not check the responder's own revocation status.
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False)
    )
    return builder.sign(issuer_key, signing_hash(issuer_key))


def ocsp_responder_create(
    *, authority: CertificateAuthority, actor: Actor, now: datetime | None = None
) -> OcspResponder:
    """A new responder for ``authority`` (a key and a certificate its key signs), audited."""
    now = now or timezone.now()
    if not authority.certificate_pem:
        raise _unavailable(authority)
    issuer = x509.load_pem_x509_certificate(authority.certificate_pem.encode())
    if issuer.not_valid_after_utc <= now + USABLE_FOR:
        raise _unavailable(authority)
    key = key_generate(_KEY_TYPES.get(authority.key_type, CaKeyType.EC256))
    certificate = responder_certificate_build(issuer, key_load(authority.private_key), key, now=now)
    with transaction.atomic():
        responder = OcspResponder.objects.create(
            authority=authority,
            private_key=key_pem(key),
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
            serial=format(certificate.serial_number, "x"),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )
        audit_record(
            actor=actor,
            action="ocsp_responder.created",
            target=authority,
            changes={"serial": responder.serial, "not_after": responder.not_after},
        )
    return responder


def ocsp_responder_usable(authority_id: int, *, now: datetime, left: timedelta = USABLE_FOR) -> OcspResponder | None:
    """The CA's newest responder valid now and for at least ``left`` more, if it has one."""
    return (
        OcspResponder.objects.filter(authority_id=authority_id, not_before__lte=now, not_after__gt=now + left)
        .order_by("-not_after", "-pk")
        .first()
    )


def ocsp_responder_ensure(
    *, authority: CertificateAuthority, actor: Actor, now: datetime | None = None, left: timedelta = USABLE_FOR
) -> OcspResponder:
    """The CA's responder valid for at least ``left`` more (or as long as the CA itself is), made when
    it has none: under a lock on the CA's row, so requests arriving together make exactly one."""
    now = now or timezone.now()
    found = ocsp_responder_usable(authority.pk, now=now, left=left)
    if found is not None:
        return found
    with transaction.atomic():
        locked = CertificateAuthority.objects.select_for_update().get(pk=authority.pk)
        found = ocsp_responder_usable(locked.pk, now=now, left=left)
        if found is None:
            newest = ocsp_responder_usable(locked.pk, now=now, left=USABLE_FOR)
            # Near the CA's own end no new responder would last longer than the newest one.
            if newest is not None and locked.not_after is not None and newest.not_after >= locked.not_after:
                return newest
            found = ocsp_responder_create(authority=locked, actor=actor, now=now)
    return found


def ocsp_responders_renew(*, actor: Actor = RENEWAL_ACTOR, now: datetime | None = None) -> int:
    """The current tenant: the next responder for every CA whose newest one expires within
    RENEW_BEFORE (CAs get their first one on first need), and expired ones deleted. How many were made."""
    now = now or timezone.now()
    due = (
        CertificateAuthority.objects.exclude(certificate_pem="")
        .annotate(last=Max("ocsp_responders__not_after"))
        .filter(last__lte=now + RENEW_BEFORE)
        .defer("private_key")
    )
    made = 0
    for authority in due:
        try:
            responder = ocsp_responder_ensure(authority=authority, actor=actor, now=now, left=RENEW_BEFORE)
        except ValidationError:
            continue  # the CA's own certificate has (almost) expired: nothing it signs would last
        made += responder.not_after > authority.last
    OcspResponder.objects.filter(not_after__lt=now - KEEP_EXPIRED).delete()
    return made


def ocsp_responders_renew_all(*, now: datetime | None = None) -> dict[str, int]:
    """Every active tenant, each in its own schema: responders made per tenant."""
    made = {}
    for tenant in tenants_active():
        with tenant_context(tenant):
            try:
                made[tenant.schema_name] = ocsp_responders_renew(now=now)
            except Exception:
                # One tenant's trouble must not stop the others' responders.
                logger.exception("OCSP responder renewal of tenant %s failed", tenant.schema_name)
    return made
