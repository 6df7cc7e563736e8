"""The private CA engine behind the issuing-engine seam: renewals (and any queued issuance) of
certificates whose issuer is one of the tenant's CAs. The first issuance is signed at once, in
pki.issuing; both go through pki.signing, so the profile rules are the same."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ValidationError

from apps.certificates.engines import Engine, EngineError
from apps.certificates.issued import Issued
from apps.certificates.models import Certificate, CertificateVersion
from apps.certificates.pki.revoking import private_version_revoke
from apps.certificates.pki.signing import certificate_prepare, prepared_sign
from certmate.actors import Actor


def _refusal(certificate: Certificate, exc: ValidationError) -> EngineError:
    reason = "; ".join(exc.messages)
    return EngineError(f"{certificate.identifier}: {reason}", code=getattr(exc, "code", None) or "profile_refused")


class PrivateCaEngine(Engine):
    def check(self, certificate: Certificate, *, revoking: bool = False) -> None:
        if revoking:
            return  # certmate is the CA: whatever it signed it can revoke, whatever the CA's state
        current = certificate.current_version
        if current is not None and current.revoked_at is not None:
            raise EngineError(
                f"{certificate.identifier} was revoked ({current.revocation_reason or 'unspecified'}): certmate "
                "does not re-issue it on its own; issue a new one, or renew it from its holder's new CSR",
                code="revoked",
            )
        authority = certificate.authority
        if not authority.can_issue:
            raise EngineError(f"CA {authority.name!r} is {authority.state}: it issues nothing", code="ca_unavailable")
        if certificate.csr_pem and certificate.current_version_id and not certificate.profile.allow_csr_resign:
            raise EngineError(
                f"{certificate.identifier} was signed from its holder's CSR and profile "
                f"{certificate.profile.name!r} does not re-sign the same key: send a new CSR to renew it",
                code="needs_csr",
            )

    def obtain(self, certificate: Certificate, *, keep_alive: Callable[[], None]) -> Issued:
        self.check(certificate)
        try:
            prepared = certificate_prepare(certificate)
        except ValidationError as exc:
            raise _refusal(certificate, exc) from None
        return prepared_sign(prepared)

    def revoke(
        self, certificate: Certificate, version: CertificateVersion, *, reason: str, keep_alive: Callable[[], None]
    ) -> str:
        """A revocation job (queued before revocations of private certificates were made at once)."""
        try:
            private_version_revoke(version=version, reason=reason, actor=Actor.system("worker"))
        except ValidationError as exc:
            raise _refusal(certificate, exc) from None
        return ""

    def revoke_at_once(
        self,
        certificate: Certificate,
        version: CertificateVersion,
        *,
        reason: str,
        actor: Actor,
        invalidity_date: datetime | None = None,
    ) -> CertificateVersion:
        return private_version_revoke(version=version, reason=reason, actor=actor, invalidity_date=invalidity_date)

    def expected_names(self, certificate: Certificate) -> set[str]:
        return {name.partition(":")[2] for name in certificate.alt_names}
