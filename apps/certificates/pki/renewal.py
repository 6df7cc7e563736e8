"""Renewing a private certificate at once, outside the sweep: on request (CertMate's renew endpoint,
``pki renew``) or from its holder's new CSR. Signed in the request like the first issuance, held to
the profile as it stands today, stored as the next version with a finished job, its event and audit
records. The sweep renews through the engine (pki.engine) with the same rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.certificates.engines import EngineError
from apps.certificates.models import Certificate, CertificateVersion, Job, JobOperation
from apps.certificates.pki.engine import PrivateCaEngine
from apps.certificates.pki.issuing import job_signed
from apps.certificates.pki.signing import certificate_prepare, prepared_sign
from apps.certificates.selectors import job_open
from apps.certificates.services.auditing import certificate_audit
from apps.certificates.services.issuance import version_make_current
from certmate.actors import Actor


def private_certificate_renew_now(*, certificate: Certificate, actor: Actor) -> CertificateVersion:
    """Sign the certificate's next version now and make it current: a server-side key is replaced by a
    new one; a CSR-based certificate is re-signed for the same public key only when its profile allows
    it (else refused with code ``needs_csr``: see private_certificate_csr_renew). Refused while a job for
    it is open, once its current version is revoked, or when its CA no longer issues."""
    return _renew(certificate, actor=actor, csr_pem=None)


def private_certificate_csr_renew(*, certificate: Certificate, csr_pem: str, actor: Actor) -> CertificateVersion:
    """Re-issue the certificate for its holder's new CSR (its key may differ from the last one): the
    certificate keeps its name, subject and SANs, the profile's rules apply as to any CSR, and the new
    CSR is the one later renewals re-sign (when the profile allows). A certificate marked ``needs_csr``
    is active again."""
    if not isinstance(csr_pem, str) or not csr_pem.strip():
        # Empty must not fall back to a server-side key: the holder asked to keep theirs.
        raise ValidationError("send the holder's new CSR as PEM text", code="invalid_csr")
    return _renew(certificate, actor=actor, csr_pem=csr_pem)


def _renew(certificate: Certificate, *, actor: Actor, csr_pem: str | None) -> CertificateVersion:
    if not certificate.is_private:
        raise ValidationError(
            f"{certificate.identifier} is issued through ACME: renew it with a renewal job", code="not_private"
        )
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update(of=("self",))
            .select_related("authority", "profile", "current_version")
            .get(pk=certificate.pk)
        )
        _refuse_now(certificate, from_new_csr=csr_pem is not None)
        prepared = certificate_prepare(certificate, csr_pem=csr_pem)
        issued = prepared_sign(prepared)
        job = job_signed(certificate=certificate, operation=JobOperation.RENEW, actor=actor, forced=True)
        changes = {"forced": True, "job": job.pk, "new_csr": csr_pem is not None}
        certificate_audit(actor=actor, action="certificate.renewal_requested", certificate=certificate, changes=changes)
        if csr_pem is not None:
            certificate.csr_pem = prepared.csr.pem
            certificate.save(update_fields=["csr_pem", "updated_at"])
        version = version_make_current(certificate=certificate, issued=issued, actor=actor)
        Job.objects.filter(pk=job.pk).update(version=version, finished_at=timezone.now())
        return version


def _refuse_now(certificate: Certificate, *, from_new_csr: bool) -> None:
    open_job = job_open(certificate=certificate)
    if open_job is not None:
        raise ValidationError(
            f"job {open_job.pk} for {certificate.identifier} is {open_job.status}: wait for it to finish",
            code="job_open",
        )
    if from_new_csr:
        return  # a new key after a revocation (a lost or stolen one) is how the holder recovers
    current = certificate.current_version
    if current is not None and current.revoked_at is not None:
        raise ValidationError(
            f"Cannot renew a revoked certificate: {certificate.identifier} was revoked; issue a new one",
            code="revoked",
        )
    try:
        PrivateCaEngine().check(certificate)
    except EngineError as exc:
        raise ValidationError(exc.reason, code=exc.code) from None
