"""CertMate's private CA (``data/certs/ca/``) and the client certificates it signed
(``data/certs/client/<usage>/<identifier>/``), revocations included, into the tenant's private CA."""

from __future__ import annotations

import re

from cryptography.hazmat.primitives import hashes
from django.core.exceptions import ValidationError

from apps.certificates.pki.authorities import ca_import
from apps.certificates.pki.material import certificate_parse
from apps.certificates.pki.models import CertificateAuthority
from apps.importing.context import ImportRun
from apps.importing.report import Outcome

CA_NAME = "certmate"
_CA_FILES = {
    "ca.crt": "the CA certificate",
    "ca.key": "the CA key (encrypted at rest here)",
    "ca_metadata.json": "read with the CA",
}
_CA_SKIPPED = {
    "crl.pem": "certmate signs its own CRLs for the CA (served at its public URL)",
    "backups": "CertMate's copies of an earlier CA",
}
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,252}")
_REASONS = {"key_compromise": "keycompromise", "ca_compromise": "cacompromise", "affiliation_changed":
            "affiliationchanged", "cessation_of_operation": "cessationofoperation", "certificate_hold":
            "certificatehold", "privilege_withdrawn": "privilegewithdrawn"}  # fmt: skip


def private_ca_import(run: ImportRun) -> None:
    folder = f"{run.layout.data}certs/ca/"
    paths = sorted(p for p in run.source.files if p.startswith(folder))
    if not paths:
        return
    for path in paths:
        top = path[len(folder) :].split("/")[0]
        if top in _CA_SKIPPED:
            run.report.add(path, Outcome.SKIPPED, _CA_SKIPPED[top])
        elif top not in _CA_FILES:
            run.report.add(path, Outcome.SKIPPED, "not a file of CertMate's CA")
    item = f"{folder}ca.crt"
    if not run.source.exists(item):
        run.report.add(
            folder, Outcome.ATTENTION, "no ca.crt: the private CA and its client certificates are not imported"
        )
        return
    ok = run.each(f"{folder} (CertMate's private CA)", lambda: _authority(run, folder))
    outcome = run.report.entries[-1].outcome if ok else Outcome.ATTENTION
    for name, reason in _CA_FILES.items():
        if run.source.exists(folder + name):
            run.report.add(folder + name, outcome, reason)


def _authority(run: ImportRun, folder: str) -> tuple[Outcome, str]:
    cert_pem = run.read_text(folder + "ca.crt")
    certificate = certificate_parse(cert_pem)
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    existing = CertificateAuthority.objects.filter(fingerprint_sha256=fingerprint).first()
    if existing is not None:
        run.authority = existing
        return Outcome.UNCHANGED, f"already the tenant's CA {existing.name!r}"
    if not run.source.exists(folder + "ca.key"):
        raise ValidationError("no ca.key beside ca.crt (a share-safe backup leaves it out): import the data folder")
    key_pem = run.read_text(folder + "ca.key")
    taken = CertificateAuthority.objects.filter(name=CA_NAME).exists()
    authority = ca_import(
        name=f"{CA_NAME}-{fingerprint[:8]}" if taken else CA_NAME,
        certificate_pem=cert_pem,
        private_key_pem=key_pem,
        actor=run.actor,
    )
    run.authority = authority
    run.remember(f"authority:{fingerprint}", "authority", fingerprint, authority)
    return Outcome.IMPORTED, f"the tenant's private CA {authority.name!r} (its key encrypted)"
