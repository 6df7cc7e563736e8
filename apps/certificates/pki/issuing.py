"""Issuing from a private CA: the request is held to its profile, signed at once (no queue: signing
takes milliseconds), and stored as the certificate's first version — with its job, its ``issued``
event (storage publishes it) and its audit record, in one transaction. Renewals go through the sweep
and the engine (pki.engine) like ACME ones."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.certificates.issued import Issued
from apps.certificates.models import (
    Certificate,
    CertificateKind,
    CertificateProfile,
    Job,
    JobOperation,
    JobStatus,
    SanType,
    TenantSettings,
)
from apps.certificates.pki.keys import PrivateKey
from apps.certificates.pki.names import IDENTIFIER
from apps.certificates.pki.signing import Prepared, prepared_sign, request_prepare
from apps.certificates.services.auditing import certificate_audit, certificate_settings
from apps.certificates.services.issuance import version_make_current
from certmate.actors import Actor
from certmate.audit.services import audit_changes

_SLUG = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class PrivateRequest:
    """One certificate to issue from a private CA, as a face hands it over (values not yet checked)."""

    profile: CertificateProfile
    kind: str = CertificateKind.CLIENT
    name: str | None = None
    subject: dict | None = None
    alt_names: list | None = None
    key_type: str | None = None
    csr_pem: str | None = None
    days: int | None = None
    auto_renew: bool | None = None
    renew_before_days: int | None = None
    usage: str = ""
    notes: str = ""


def identifier_make(request: PrivateRequest, prepared: Prepared) -> str:
    """The name the request gives; else a server certificate's first DNS name, or for a client one a
    slug of its common name (or first SAN) with a random suffix, as CertMate names them."""
    if request.name is not None:
        if not isinstance(request.name, str) or not IDENTIFIER.fullmatch(request.name):
            raise ValidationError(
                {"name": "use 1 to 128 letters, digits or . _ @ + : -, starting with a letter or digit"},
                code="invalid_name",
            )
        return request.name
    dns = [name.value for name in prepared.alt_names if name.type == SanType.DNS]
    if request.kind == CertificateKind.SERVER and dns:
        return dns[0]
    base = prepared.subject.get("common_name") or (prepared.alt_names[0].value if prepared.alt_names else "")
    slug = re.sub(r"\.{2,}", ".", _SLUG.sub("-", base.lower())).strip(".-_")[:110] or "client"
    return f"{slug}-{uuid.uuid4().hex[:8]}"


def _text(value, what: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit or re.search(r"[\x00-\x08\x0b-\x1f\x7f]", value):
        raise ValidationError({what: f"at most {limit} printable characters"}, code="invalid")
    return value.strip()


def _renew_before(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
        raise ValidationError({"renew_before_days": "use 1 to 365 days"}, code="invalid")
    return value


def private_prepare(request: PrivateRequest) -> tuple[Prepared, str]:
    """Check everything about ``request`` (values, profile, name): (what to sign, its identifier)."""
    if request.kind not in CertificateKind.values:
        raise ValidationError({"kind": f"use one of {', '.join(CertificateKind.values)}"}, code="invalid")
    _text(request.usage, "usage", 40)
    _text(request.notes, "notes", 1000)
    _renew_before(request.renew_before_days)
    prepared = request_prepare(
        profile=request.profile,
        kind=request.kind,
        subject=request.subject,
        alt_names=request.alt_names,
        key_type=request.key_type,
        csr_pem=request.csr_pem,
        days=request.days,
    )
    return prepared, identifier_make(request, prepared)


def private_certificate_issue(
    request: PrivateRequest, *, actor: Actor, signer: PrivateKey | None = None
) -> Certificate:
    """Issue ``request`` now: the certificate, its first version (current), a finished job, its event
    and audit record. Refused (ValidationError, nothing signed) when the request breaks its profile or
    the name is taken. ``signer``: the CA's key already loaded (a batch loads it once)."""
    prepared, identifier = private_prepare(request)
    if Certificate.objects.filter(kind=request.kind, identifier=identifier).exists():
        raise _taken(request.kind, identifier)
    issued = prepared_sign(prepared, signer=signer)
    try:
        with transaction.atomic():
            return _store(request, prepared, identifier, issued, actor)
    except IntegrityError:
        raise _taken(request.kind, identifier) from None


def _taken(kind: str, identifier: str) -> ValidationError:
    return ValidationError(
        f"a {kind} certificate named {identifier!r} exists already: renew it, or choose another name",
        code="exists",
    )


def _store(request: PrivateRequest, prepared: Prepared, identifier: str, issued: Issued, actor: Actor):
    profile = prepared.profile
    settings = TenantSettings.load()
    certificate = Certificate.objects.create(
        kind=request.kind,
        identifier=identifier,
        authority=profile.authority,
        profile=profile,
        subject_fields=prepared.subject,
        alt_names=[str(name) for name in prepared.alt_names],
        san_domains=[],
        key_type=prepared.key_type or "",
        csr_pem=prepared.csr.pem if prepared.csr else "",
        validity_days=request.days,
        auto_renew=settings.auto_renew_default if request.auto_renew is None else request.auto_renew,
        renew_before_days=request.renew_before_days,
        usage=request.usage.strip(),
        notes=request.notes.strip(),
    )
    job = job_signed(certificate=certificate, operation=JobOperation.ISSUE, actor=actor)
    certificate_audit(
        actor=actor,
        action="certificate.requested",
        certificate=certificate,
        changes={**audit_changes({}, private_settings(certificate)), "job": job.pk},
    )
    version = version_make_current(certificate=certificate, issued=issued, actor=actor)
    Job.objects.filter(pk=job.pk).update(version=version, finished_at=timezone.now())
    certificate.refresh_from_db()
    return certificate


def job_signed(*, certificate: Certificate, operation: str, actor: Actor, **fields) -> Job:
    """The job of a certificate signed at once (no worker): finished as it starts; the caller adds its
    version once stored."""
    now = timezone.now()
    return Job.objects.create(
        certificate=certificate,
        operation=operation,
        status=JobStatus.SUCCEEDED,
        requested_by=actor.user if actor.user_id else None,
        queued_at=now,
        started_at=now,
        attempts=1,
        **fields,
    )


def private_settings(certificate: Certificate) -> dict:
    """What the audit log records of a private certificate's request."""
    return {
        **certificate_settings(certificate),
        "authority": certificate.authority.name,
        "profile": certificate.profile.name,
        "subject": dict(certificate.subject_fields),
        "alt_names": list(certificate.alt_names),
        "from_csr": bool(certificate.csr_pem),
        "validity_days": certificate.validity_days,
    }
