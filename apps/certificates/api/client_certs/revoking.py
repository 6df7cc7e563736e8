"""Revoking for /api/client-certs: CertMate's free-text reason read as an RFC 5280 one, and its answer
whatever the certificate's state once it is revoked.

CertMate takes any text as the reason (its own UI sends "User requested") and leaves it out of the CRL
when it is not an RFC 5280 name. certmate does the same, without 400s that would break CertMate's
clients: an RFC 5280 name in any spelling is that reason; other text is recorded as unspecified, the
text kept in the audit record. Only what cannot be meant for a client certificate is refused: a CA's
reasons (cACompromise, aACompromise), privilegeWithdrawn (not offered), and removeFromCRL, which lifts a
hold rather than revoking (POST /api/certificates/{identifier}/unhold?kind=client)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.certificates.models import Certificate
from apps.certificates.pki.revocation_rules import LEAF_REASONS, field_error, reason_name
from apps.certificates.pki.revoking import private_version_revoke
from apps.certificates.revocation_reasons import RFC5280_CODES
from apps.certificates.selectors import certificate_version
from certmate.actors import Actor


def certmate_reason(text: str) -> tuple[str, str]:
    """(the RFC 5280 reason, the free text to keep beside it when it was not one)."""
    text = text or "unspecified"
    name = reason_name(text)
    if name in LEAF_REASONS:
        return name, ""
    if name == "removefromcrl":
        raise field_error("reason", "removeFromCRL lifts a hold rather than revoking: POST "
                          "/api/certificates/{identifier}/unhold?kind=client", "invalid_reason")  # fmt: skip
    if name in RFC5280_CODES:
        raise field_error("reason", f"{text[:40]!r} is not a reason to revoke a client certificate for: use one of "
                          f"{', '.join(LEAF_REASONS)}", "invalid_reason")  # fmt: skip
    return "unspecified", text


def client_certificate_revoke(*, certificate: Certificate, reason_text: str, actor: Actor) -> Certificate:
    """Revoke the certificate's current version for CertMate's ``reason_text``. Already revoked for
    another reason: answered as revoked (its reason stands), as CertMate answers a second revocation."""
    reason, note = certmate_reason(reason_text)
    version = certificate_version(certificate=certificate)
    try:
        private_version_revoke(version=version, reason=reason, actor=actor, note=note)
    except ValidationError as exc:
        if getattr(exc, "code", None) != "revoked":
            raise
    return certificate
