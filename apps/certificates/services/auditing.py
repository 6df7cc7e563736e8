"""What the certificate services write to the audit log: one event per write, on the certificate (its
id, and its identifier as the name that outlives it).

``changes`` holds ``{field: [before, after]}`` for the certificate's settings (accounts by their
names, as a reader knows them) and plain values for what the event is about (the job it queued, the
revocation reason, the downloaded version).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.certificates.models import Certificate
from apps.certificates.services.acme_options import fallback_names
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_record


def certificate_settings(certificate: Certificate) -> dict[str, Any]:
    """How the certificate is issued and renewed, as the audit log records it (its identifier is the
    event's object name)."""
    return {
        "san_domains": list(certificate.san_domains),
        "key_type": certificate.key_type,
        "ca_account": str(certificate.ca_account) if certificate.ca_account_id else None,
        "dns_account": str(certificate.dns_account) if certificate.dns_account_id else None,
        "auto_renew": certificate.auto_renew,
        "renew_before_days": certificate.renew_before_days,
        "challenge": certificate.challenge,
        "webroot": certificate.webroot,
        "acme_profile": certificate.acme_profile,
        "fallback_ca_accounts": fallback_names(certificate),
    }


def certificate_audit(
    *,
    actor: Actor,
    action: str,
    certificate: Certificate,
    changes: Mapping[str, Any] | None = None,
    certificate_id: int | None = None,
) -> AuditEvent:
    """Record ``action`` on ``certificate``: after the write, inside its transaction. A deleted instance
    has lost its pk: give ``certificate_id`` then."""
    return audit_record(
        actor=actor,
        action=action,
        object_type="certificate",
        object_id=certificate.pk if certificate_id is None else certificate_id,
        object_name=certificate.identifier,
        changes=changes,
    )
