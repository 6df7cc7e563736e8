"""Issuing one row of a batch: its profile found (by name on the batch's CA, cached), the CA's key
loaded once for the whole batch, the row handed to the one issuing service, and any refusal turned
into that row's result instead of stopping the batch."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import DatabaseError

from apps.certificates.models import CertificateAuthority, CertificateKind, CertificateProfile, ProfileKind
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.keys import PrivateKey, key_load
from certmate.actors import Actor

logger = logging.getLogger(__name__)

DEFAULT_PROFILE = "client"
ISSUED, FAILED = "issued", "failed"
_ERROR_LENGTH = 500


class RowIssuer:
    def __init__(self, *, authority: CertificateAuthority, profile: CertificateProfile | None, actor: Actor):
        self.authority = authority
        self.actor = actor
        self.default = profile
        if profile is not None:
            profile.authority = authority
        self.profiles: dict[str, CertificateProfile | None] = {}
        self._signer: PrivateKey | None = None

    def profile(self, name: str | None) -> CertificateProfile:
        if name is None and self.default is not None:
            return self.default
        name = name or DEFAULT_PROFILE
        if name not in self.profiles:
            found = self.authority.profiles.filter(name=name).first()
            if found is not None:
                found.authority = self.authority  # the loaded CA, not a query per row
            self.profiles[name] = found
        if self.profiles[name] is None:
            raise ValidationError(f"CA {self.authority.name!r} has no profile {name!r}", code="invalid_profile")
        return self.profiles[name]

    def signer(self) -> PrivateKey | None:
        """The CA's key, decrypted and loaded once (not at all when the CA issues nothing)."""
        if self._signer is None and self.authority.can_issue:
            self._signer = key_load(self.authority.private_key)
        return self._signer

    def issue(self, number: int, row: dict) -> dict:
        """Issue ``row`` (cleaned by batch_rows.row_clean): its result, issued or refused with why."""
        try:
            profile = self.profile(row.get("profile"))
            default_kind = CertificateKind.SERVER if profile.kind == ProfileKind.SERVER else CertificateKind.CLIENT
            request = PrivateRequest(
                profile=profile,
                kind=row.get("kind") or default_kind,
                name=row.get("name"),
                subject=row.get("subject") or {},
                alt_names=row.get("alt_names"),
                key_type=row.get("key_type"),
                days=row.get("days"),
                usage=row.get("usage", ""),
                notes=row.get("notes", ""),
            )
            certificate = private_certificate_issue(request, actor=self.actor, signer=self.signer())
        except ValidationError as exc:
            return row_result(number, error="; ".join(exc.messages), code=_code(exc))
        except DatabaseError:
            raise  # the transaction is lost: the chunk is tried again
        except Exception:  # one bad row must not stop the batch; what broke is in the log, not the result
            logger.exception("batch row %s could not be issued", number)
            return row_result(number, error="could not be issued (internal error)", code="error")
        return row_result(number, identifier=certificate.identifier)


def row_result(number: int, *, identifier: str | None = None, error: str | None = None, code: str | None = None):
    return {
        "row": number,
        "identifier": identifier,
        "status": FAILED if error else ISSUED,
        "error": error[:_ERROR_LENGTH] if error else None,
        "code": code,
    }


def _code(exc: ValidationError) -> str:
    codes = {error.code for error in exc.error_list} if not hasattr(exc, "error_dict") else set()
    if hasattr(exc, "error_dict"):
        codes = {error.code for errors in exc.error_dict.values() for error in errors}
    return codes.pop() if len(codes) == 1 and None not in codes else "invalid"
