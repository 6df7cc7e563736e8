"""Who answers an OCSP request, kept per process: the current tenant's CAs by the hashes a CertID names
them with (issuer name hash and key hash, in every hash OCSP allows) and, per CA, its delegated
responder's key and certificate, loaded once. A tenant's entry is read again after ``ISSUERS_TTL`` (a
new or deleted CA, a renewed responder), on a miss at most every ``MISS_RELOAD`` (a CA made a moment
ago in another process), and a responder is replaced before it nears its end."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef

from apps.certificates.models import CertificateAuthority
from apps.certificates.pki.keys import PrivateKey, key_load, signing_hash
from apps.certificates.pki.ocsp_responders import RESPONDER_ACTOR, USABLE_FOR, ocsp_responder_ensure

logger = logging.getLogger(__name__)

# The hash algorithms a CertID may use (those cryptography's OCSP module knows). SHA-1 is what most
# clients still send: it names a CA here, it proves nothing.
CERT_ID_HASHES = (hashes.SHA1(), hashes.SHA224(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512())  # noqa: S303
ISSUERS_TTL = 60.0  # seconds a tenant's CAs and responders are used before they are read again
MISS_RELOAD = 5.0  # an unknown issuer reloads the tenant's CAs at most this often
MAX_TENANTS = 512  # tenants kept per process (least recently used dropped)
SIGNER_MARGIN = USABLE_FOR / 2  # a cached responder with less left is replaced


@dataclass(frozen=True)
class Issuer:
    """One of the tenant's CAs, as a CertID names it (by subject and key). Several rows may share both
    (a CA certificate issued again for the same key, imported twice): the serial is looked up under
    each; the one valid longest signs (any of them vouches for a responder certificate it signs)."""

    authority_id: int
    name: str
    certificate: x509.Certificate
    signs_cas: bool  # one of them signed other CAs: their serials are answered too
    authority_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Signer:
    """A CA's delegated responder, ready to sign: its key, and the certificates a response carries
    (the responder's, then the CA's, so a relying party holding only the root can build the path)."""

    key: PrivateKey
    algorithm: hashes.HashAlgorithm | None
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    not_after: datetime


@dataclass
class _Tenant:
    loaded: float
    issuers: dict[tuple[str, bytes, bytes], Issuer]
    signers: dict[int, Signer] = field(default_factory=dict)


_tenants: OrderedDict[str, _Tenant] = OrderedDict()
_lock = threading.Lock()


def _children(der: bytes, start: int, end: int):
    """The (tag, start of header, start of content, end) of each DER element between start and end."""
    while start < end:
        tag, length, offset = der[start], der[start + 1], start + 2
        if length & 0x80:
            size = length & 0x7F
            length, offset = int.from_bytes(der[offset : offset + size], "big"), offset + size
        yield tag, start, offset, offset + length
        start = offset + length


def _subject_and_key(certificate: x509.Certificate) -> tuple[bytes, bytes]:
    """The subject Name exactly as the certificate encodes it, and its subjectPublicKey's bits: what
    RFC 6960 4.1.1 hashes (not a re-encoding, which could differ for an imported CA)."""
    tbs = certificate.tbs_certificate_bytes
    _, _, content, end = next(_children(tbs, 0, len(tbs)))
    fields = [element for element in _children(tbs, content, end) if element[0] != 0xA0]  # no version
    _, subject_start, _, subject_end = fields[4]
    _, _, key_content, key_end = fields[5]
    _, bits = list(_children(tbs, key_content, key_end))
    return tbs[subject_start:subject_end], tbs[bits[2] + 1 : bits[3]]  # past the unused-bits octet


def cert_id_hashes(certificate: x509.Certificate) -> list[tuple[str, bytes, bytes]]:
    """(algorithm, issuer name hash, issuer key hash) for every CertID hash naming this CA."""
    subject, key = _subject_and_key(certificate)
    found = []
    for algorithm in CERT_ID_HASHES:
        name_hash, key_hash = hashes.Hash(algorithm), hashes.Hash(algorithm)
        name_hash.update(subject)
        key_hash.update(key)
        found.append((algorithm.name, name_hash.finalize(), key_hash.finalize()))
    return found


def _load() -> _Tenant:
    children = CertificateAuthority.objects.filter(parent_id=OuterRef("pk"))
    rows = (
        CertificateAuthority.objects.exclude(certificate_pem="")
        .annotate(signs_cas=Exists(children))
        .order_by("-not_after", "-pk")  # the one valid longest first: it signs for its twins
        .values_list("pk", "name", "certificate_pem", "signs_cas")
    )
    issuers = {}
    for pk, name, pem, signs_cas in rows:
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode())
            names = cert_id_hashes(certificate)
        except (ValueError, IndexError):  # an imported CA this parser cannot read answers for nothing
            logger.warning("CA %s is left out of OCSP: its certificate cannot be read", name)
            continue
        twin = issuers.get(names[0])
        if twin is not None:
            signs_cas = signs_cas or twin.signs_cas
            issuer = replace(twin, signs_cas=signs_cas, authority_ids=(*twin.authority_ids, pk))
        else:
            issuer = Issuer(pk, name, certificate, signs_cas, (pk,))
        issuers.update(dict.fromkeys(names, issuer))
    return _Tenant(loaded=time.monotonic(), issuers=issuers)


def _tenant(*, fresher_than: float = ISSUERS_TTL) -> _Tenant:
    schema = connection.schema_name
    entry = _tenants.get(schema)
    if entry is None or time.monotonic() - entry.loaded > fresher_than:
        entry = _load()
        with _lock:
            _tenants[schema] = entry
            _tenants.move_to_end(schema)
            while len(_tenants) > MAX_TENANTS:
                _tenants.popitem(last=False)
    return entry


def issuer_find(algorithm: str, name_hash: bytes, key_hash: bytes) -> Issuer | None:
    """The current tenant's CA a CertID names, or None: never another tenant's (each schema has its own)."""
    wanted = (algorithm, name_hash, key_hash)
    found = _tenant().issuers.get(wanted)
    if found is None:
        found = _tenant(fresher_than=MISS_RELOAD).issuers.get(wanted)
    return found


def signer_get(issuer: Issuer, *, now: datetime) -> Signer:
    """The CA's responder ready to sign (its first one made now when it has none).
    Raises ValidationError (ca_unavailable) for a CA whose own certificate has expired, or deleted."""
    entry = _tenant()
    signer = entry.signers.get(issuer.authority_id)
    if signer is not None and signer.not_after - now > SIGNER_MARGIN:
        return signer
    authority = CertificateAuthority.objects.filter(pk=issuer.authority_id).first()
    if authority is None:  # deleted since the tenant's CAs were read: read them again next time
        with _lock:
            _tenants.pop(connection.schema_name, None)
        raise ValidationError(f"CA {issuer.name!r} is gone", code="ca_unavailable")
    responder = ocsp_responder_ensure(authority=authority, actor=RESPONDER_ACTOR, now=now)
    key = key_load(responder.private_key)
    certificate = x509.load_pem_x509_certificate(responder.certificate_pem.encode())
    signer = Signer(key, signing_hash(key), certificate, (certificate, issuer.certificate), responder.not_after)
    entry.signers[issuer.authority_id] = signer
    return signer


def signers_forget() -> None:
    """Drop every tenant's cached CAs and responders in this process (tests; a CA deleted here)."""
    with _lock:
        _tenants.clear()
