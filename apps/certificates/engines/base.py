"""What an issuing engine does for the services: obtain a certificate for a request, revoke a version.
Engine-neutral: the services call these and know nothing of how an engine works (certbot, a private CA)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.certificates.issued import Issued
    from apps.certificates.models import Certificate, CertificateVersion
    from certmate.actors import Actor


class EngineError(Exception):
    """The engine could not do it: ``reason`` is one line a user reads, ``output`` the engine's log,
    ``transient`` whether asking again later may succeed (``retry_after``: not before so many seconds,
    when the issuer said), ``code`` a refusal's error code."""

    def __init__(
        self,
        reason: str,
        output: str = "",
        *,
        transient: bool = False,
        retry_after: float | None = None,
        code: str = "engine_refused",
    ):
        super().__init__(reason)
        self.reason = reason
        self.output = output
        self.transient = transient
        self.retry_after = retry_after
        self.code = code


@dataclass(frozen=True)
class Wait:
    """An order that must wait its turn at the issuer (a rate limit): how long, and what for."""

    seconds: float
    progress: str


class Engine(ABC):
    """One way of issuing certificates. Each call gets ``keep_alive``, to call before each long step
    (it raises when the job was given up on meanwhile)."""

    @abstractmethod
    def check(self, certificate: Certificate, *, revoking: bool = False) -> None:
        """Raise EngineError (with a code) when the certificate lacks what this engine needs to issue it,
        or (``revoking``) to revoke one of its versions: asked before a job is queued."""

    @abstractmethod
    def obtain(self, certificate: Certificate, *, keep_alive: Callable[[], None]) -> Issued:
        """A new version's material for the certificate as it stands (names, key type, issuer)."""

    def order_replaces(self, certificate: Certificate) -> str:
        """How the issuer names the current version an order for the certificate replaces (ACME ARI: its
        RFC 9773 CertID), where the issuer takes one; "" otherwise. obtain() sends it; the job shows it."""
        return ""

    @abstractmethod
    def revoke(
        self, certificate: Certificate, version: CertificateVersion, *, reason: str, keep_alive: Callable[[], None]
    ) -> str:
        """Revoke ``version`` at its issuer for ``reason`` (RFC 5280, see revocation_reasons); returns the
        engine's output. A version the issuer reports as already revoked counts as revoked."""

    def revoke_at_once(
        self,
        certificate: Certificate,
        version: CertificateVersion,
        *,
        reason: str,
        actor: Actor,
        invalidity_date: datetime | None = None,
    ) -> CertificateVersion | None:
        """An engine whose issuer is certmate itself revokes ``version`` in the caller's transaction and
        answers it as now recorded (its refusals are ValidationErrors). The others answer None: their
        revocation is a job, run by a worker through revoke()."""
        return None

    def expected_names(self, certificate: Certificate) -> set[str]:
        """The subject alternative names a new version of the certificate must carry, exactly."""
        return set(certificate.names)

    def order_wait(self, certificate: Certificate, *, now: datetime) -> Wait | None:
        """How long an order for the certificate must wait for the issuer's order window, if at all.
        Called inside the transaction that claims the job."""
        return None
