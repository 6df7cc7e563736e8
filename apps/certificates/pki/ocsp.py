"""The OCSP responder (RFC 6960, lightweight profile RFC 9919): a DER OCSPRequest in, a DER
OCSPResponse out, for the current tenant's CAs only.

The request's CertID names a CA by issuer name hash and key hash, in the request's hash algorithm
(SHA-1, SHA-224/256/384/512); the answer repeats that CertID and says ``good``, ``revoked`` (time and
reason) or ``unknown`` (a serial the CA never issued), valid from now for ``VALIDITY``, with the
request's nonce echoed, signed by the CA's delegated responder (identified by its key hash and
carried in the response with the CA's certificate). Refusals are OCSP statuses, never HTTP errors:
``malformedRequest`` for what is not one well-formed request for one certificate, ``unauthorized``
for a CA this tenant does not hold (another tenant's included) or a hash it cannot match,
``tryLater`` when the database is away, ``internalError`` only for a fault of certmate's own."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.db.models import Exists, OuterRef
from psycopg import sql

from apps.certificates.models import CertificateAuthority, CertificateVersion
from apps.certificates.pki.crl import reason_flag
from apps.certificates.pki.ocsp_signers import Issuer, issuer_find, signer_get

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 8 * 1024
VALIDITY = timedelta(hours=1)  # nextUpdate - thisUpdate: how long a relying party may keep an answer
MAX_NONCE_BYTES = 128  # RFC 9654: longer (or empty) is a malformedRequest
MAX_SERIAL_BITS = 160  # RFC 5280: at most 20 octets; anything longer was never issued
Status = ocsp.OCSPResponseStatus
_REFUSALS = {status: ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)
             for status in Status if status is not Status.SUCCESSFUL}  # fmt: skip


class OcspRefused(Exception):
    def __init__(self, status: Status, why: str):
        super().__init__(why)
        self.status = status


@dataclass(frozen=True)
class SerialStatus:
    """What a CA says of one serial: good, revoked (when, why) or unknown."""

    state: ocsp.OCSPCertStatus
    revoked_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class OcspAnswer:
    der: bytes
    status: Status
    this_update: datetime | None = None
    next_update: datetime | None = None
    cert_status: ocsp.OCSPCertStatus | None = None

    @property
    def successful(self) -> bool:
        return self.status is Status.SUCCESSFUL


_STATUS_SQL = (
    "SELECT revoked_at, revocation_reason FROM {schema}.{table} WHERE authority_id = ANY(%s) AND serial = %s "
    "ORDER BY revoked_at NULLS LAST LIMIT 1"
)


@functools.lru_cache(maxsize=4096)
def _status_query(schema: str, table: str, authority_column: str) -> sql.Composed:
    return sql.SQL(_STATUS_SQL.replace("authority_id", authority_column)).format(
        schema=sql.Identifier(schema), table=sql.Identifier(table)
    )


def _status_row(model, schema: str, authority_column: str, authority_ids: list[int], serial_hex: str):
    """One round trip: the statement names its schema, so no ``SET search_path`` goes before it (what
    django-tenants sends before every statement on its cursors); errors are Django's as usual."""
    query = _status_query(schema, model._meta.db_table, authority_column)
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(query, (authority_ids, serial_hex))
        return cursor.fetchone()


def serial_status(authority_ids: list[int], serial: int, *, signs_cas: bool = False) -> SerialStatus:
    """What the CA (its rows: one, or twins sharing its name and key) says of ``serial``: one indexed
    query (the unique (authority, serial) index), a second only for a CA that signed other CAs and
    does not know the serial as a certificate's."""
    if serial <= 0 or serial.bit_length() > MAX_SERIAL_BITS:
        return SerialStatus(ocsp.OCSPCertStatus.UNKNOWN)
    serial_hex, schema = format(serial, "x"), connection.schema_name
    row = _status_row(CertificateVersion, schema, "authority_id", authority_ids, serial_hex)
    if row is None and signs_cas:
        row = _status_row(CertificateAuthority, schema, "parent_id", authority_ids, serial_hex)
    if row is None:
        return SerialStatus(ocsp.OCSPCertStatus.UNKNOWN)
    revoked_at, reason = row
    if revoked_at is None:
        return SerialStatus(ocsp.OCSPCertStatus.GOOD)
    return SerialStatus(ocsp.OCSPCertStatus.REVOKED, revoked_at, reason or "unspecified")


def default_ca_serial_status(serial: int) -> SerialStatus:
    """What the tenant's default CA says of ``serial`` (unknown when the tenant has no default CA)."""
    children = CertificateAuthority.objects.filter(parent_id=OuterRef("pk"))
    default = CertificateAuthority.objects.filter(is_default=True).annotate(signs_cas=Exists(children))
    found = default.values_list("pk", "signs_cas").first()
    if found is None:
        return SerialStatus(ocsp.OCSPCertStatus.UNKNOWN)
    return serial_status([found[0]], serial, signs_cas=found[1])


def _parse(der: bytes) -> tuple[ocsp.OCSPRequest, bytes | None]:
    if not der or len(der) > MAX_REQUEST_BYTES:
        raise OcspRefused(Status.MALFORMED_REQUEST, f"a request of {len(der)} bytes")
    try:
        request = ocsp.load_der_ocsp_request(der)
    except NotImplementedError:
        # RFC 9919 2.1.1: one certificate per request (RFC 6960 wants each answered; none is refused).
        raise OcspRefused(Status.MALFORMED_REQUEST, "several certificates in one request") from None
    except ValueError as exc:
        raise OcspRefused(Status.MALFORMED_REQUEST, f"not an OCSP request: {exc}") from None
    try:
        nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        nonce = None
    except Exception as exc:  # a duplicated or garbled extension, whatever the parser raises
        raise OcspRefused(Status.MALFORMED_REQUEST, f"bad extensions: {type(exc).__name__}") from None
    if nonce is not None and not 1 <= len(nonce) <= MAX_NONCE_BYTES:
        raise OcspRefused(Status.MALFORMED_REQUEST, f"a nonce of {len(nonce)} bytes")
    if request.serial_number < 0:  # RFC 5280 4.1.2.2: no certificate has one (and none can be answered)
        raise OcspRefused(Status.MALFORMED_REQUEST, "a negative serial number")
    return request, nonce


def _issuer(request: ocsp.OCSPRequest) -> Issuer:
    try:
        algorithm = request.hash_algorithm
    except UnsupportedAlgorithm:
        raise OcspRefused(Status.UNAUTHORIZED, "a CertID hash algorithm this responder cannot match") from None
    issuer = issuer_find(algorithm.name, request.issuer_name_hash, request.issuer_key_hash)
    if issuer is None:
        raise OcspRefused(Status.UNAUTHORIZED, "a CA this tenant does not hold")
    return issuer


def _answer(request: ocsp.OCSPRequest, nonce: bytes | None, issuer: Issuer, now: datetime) -> OcspAnswer:
    try:
        signer = signer_get(issuer, now=now)
    except ValidationError:  # the CA's own certificate has expired: nothing it vouches for is valid
        raise OcspRefused(Status.UNAUTHORIZED, f"CA {issuer.name!r} can no longer sign a responder") from None
    status = serial_status(list(issuer.authority_ids), request.serial_number, signs_cas=issuer.signs_cas)
    revoked = status.state is ocsp.OCSPCertStatus.REVOKED
    # RFC 5280 5.3.1: unspecified is better left out than stated.
    reason = reason_flag(status.reason) if revoked and status.reason != "unspecified" else None
    this_update = now.replace(microsecond=0)
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number,
            algorithm=request.hash_algorithm,
            cert_status=status.state,
            this_update=this_update,
            next_update=this_update + VALIDITY,
            revocation_time=status.revoked_at if revoked else None,
            revocation_reason=reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, signer.certificate)
        .certificates(signer.chain)
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    der = builder.sign(signer.key, signer.algorithm).public_bytes(serialization.Encoding.DER)
    return OcspAnswer(der, Status.SUCCESSFUL, this_update, this_update + VALIDITY, status.state)


def ocsp_respond(der: bytes, *, now: datetime | None = None) -> OcspAnswer:
    """The current tenant's answer to one DER OCSPRequest; never raises for what a client sends."""
    now = now or datetime.now(UTC)
    try:
        request, nonce = _parse(der)
        return _answer(request, nonce, _issuer(request), now)
    except OcspRefused as refusal:
        logger.debug("OCSP request refused (%s): %s", refusal.status.name, refusal)
        return refusal_answer(refusal.status)
    except DatabaseError:
        logger.warning("OCSP request not answered: the database failed", exc_info=True)
        return refusal_answer(Status.TRY_LATER)
    except Exception:
        logger.exception("OCSP request not answered")
        return refusal_answer(Status.INTERNAL_ERROR)


def refusal_answer(status: Status) -> OcspAnswer:
    return OcspAnswer(_REFUSALS[status], status)
