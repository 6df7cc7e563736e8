"""Issuing for /api/client-certs: a CertMate request as a private-CA request on the default CA's client
profile, and CertMate's batch loop.

REPLACEABLE (integrator): ``client_certificates_batch`` is CertMate's loop over
private_certificate_issue, written while branch ``batch`` builds the batch service (one job, per-row
results, an idempotency key). Once that is on main, this function becomes a call to it that answers
the same dict."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from apps.certificates.api.client_certs.defaults import client_profile
from apps.certificates.api.client_certs.serializers import ClientCertificateCreateSerializer
from apps.certificates.models import Certificate, CertificateKind, CertificateProfile
from apps.certificates.pki.authorities import ca_default_ensure
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.keys import key_load
from certmate.actors import Actor

BATCH_COLUMNS = ("common_name", "email", "organization", "organizational_unit", "cert_usage", "days_valid", "notes")
_DAYS = re.compile(r"-?[0-9]{1,9}")


def client_request(profile: CertificateProfile, data: dict) -> PrivateRequest:
    """A validated create request (ClientCertificateCreateSerializer) as the private CA takes it."""
    subject = {
        "common_name": data["common_name"],
        "email": data.get("email", ""),
        "organization": data.get("organization", ""),
        "organizational_unit": data.get("organizational_unit", ""),
    }
    return PrivateRequest(
        profile=profile,
        kind=CertificateKind.CLIENT,
        subject=subject,
        csr_pem=None if data.get("generate_key", True) else data["csr"],
        days=data["days_valid"],
        usage=data.get("cert_usage", ""),
        notes=data.get("notes", ""),
    )


def client_certificate_create(*, data: dict, actor: Actor) -> Certificate:
    """Issue one client certificate from the default CA's client profile (the CA is made on first use)."""
    profile = client_profile(ca_default_ensure(actor=actor))
    return private_certificate_issue(client_request(profile, data), actor=actor)


def _days(text: str) -> int:
    """CertMate's batch reads days_valid leniently: not a number is 365, and it is kept within 1..3650."""
    days = int(text) if _DAYS.fullmatch(text or "") else 365
    return max(1, min(days, 3650))


def _row_values(headers: list[str], row: list[str]) -> dict:
    values = {header.strip(): value.strip() for header, value in zip(headers, row, strict=False)}
    values = {name: value for name, value in values.items() if name in BATCH_COLUMNS}
    values["days_valid"] = _days(values.get("days_valid", ""))
    return values


def _form_error(errors: dict) -> str:
    return "; ".join(f"{field}: {message}" for field, messages in errors.items() for message in messages)


def client_certificates_batch(*, headers: list[str], rows: list[list[str]], actor: Actor) -> dict:
    """Issue a certificate per row (server-side keys), each on its own: a refused row is reported with
    its reason and line (2 is the first row after the header) and does not stop the others."""
    profile = client_profile(ca_default_ensure(actor=actor))
    signer = key_load(profile.authority.private_key)  # once for the whole batch
    results = {"total": len(rows), "successful": 0, "failed": 0, "errors": [], "certificates": []}
    for index, row in enumerate(rows):
        form = ClientCertificateCreateSerializer(data=_row_values(headers, row))
        try:
            if not form.is_valid():
                raise ValidationError(_form_error(form.errors), code="invalid")
            certificate = private_certificate_issue(client_request(profile, form.validated_data), actor=actor,
                                                    signer=signer)  # fmt: skip
        except ValidationError as exc:
            results["failed"] += 1
            results["errors"].append({"row": index + 2, "error": "; ".join(exc.messages)})
            continue
        results["successful"] += 1
        common_name = certificate.subject_fields.get("common_name", "")
        results["certificates"].append({"identifier": certificate.identifier, "common_name": common_name})
    return results
