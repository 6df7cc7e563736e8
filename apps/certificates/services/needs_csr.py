"""A private certificate signed from its holder's CSR, due for renewal, whose profile does not re-sign
the same key: certmate cannot renew it alone. It is marked ``needs_csr`` once (not failed, and not
tried again by every sweep: its renewal time is cleared) with a ``renewal_failed`` event, so whoever
is notified asks the holder for a new CSR; a renewal from that CSR makes it active again."""

from __future__ import annotations

from apps.certificates import untrusted
from apps.certificates.engines import EngineError, engine_for
from apps.certificates.models import Certificate, CertificateStatus, EventKind
from apps.certificates.services.auditing import certificate_audit
from apps.certificates.services.events import event_record
from certmate.actors import Actor
from certmate.audit.services import audit_changes

NEEDS_CSR = "needs_csr"


def renewal_needs_csr(certificate: Certificate) -> str | None:
    """Why the certificate's engine cannot renew it without a new CSR from its holder, or None."""
    try:
        engine_for(certificate).check(certificate)
    except EngineError as exc:
        return exc.reason if exc.code == NEEDS_CSR else None
    return None


def certificate_needs_csr_mark(*, certificate: Certificate, reason: str, actor: Actor) -> None:
    """Mark the (locked) certificate as waiting for a new CSR, with its event and audit record. Call
    inside the transaction that locked it."""
    reason = untrusted.one_line(reason)
    before = {"status": certificate.status, "last_error": certificate.last_error}
    certificate.status = CertificateStatus.NEEDS_CSR
    certificate.last_error = reason
    certificate.renew_at = None
    certificate.save(update_fields=["status", "last_error", "renew_at", "updated_at"])
    event_record(kind=EventKind.RENEWAL_FAILED, certificate=certificate, detail={"reason": reason, "code": NEEDS_CSR})
    after = {"status": CertificateStatus.NEEDS_CSR.value, "last_error": reason}
    certificate_audit(
        actor=actor, action="certificate.needs_csr", certificate=certificate, changes=audit_changes(before, after)
    )
