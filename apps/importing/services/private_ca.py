"""CertMate's private CA (``data/certs/ca/``) and the client certificates it signed
(``data/certs/client/<usage>/<identifier>/``), revocations included, into the tenant's private CA."""

from __future__ import annotations

import json
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.core.exceptions import ValidationError

from apps.certificates.models import Certificate, CertificateKind
from apps.certificates.parsing import certificate_facts
from apps.certificates.pki.authorities import ca_import
from apps.certificates.pki.material import certificate_parse, key_matches, private_key_parse
from apps.certificates.pki.models import CertificateAuthority
from apps.certificates.services.imports import ExistingVersion, certificate_import
from apps.importing.certmate_settings import certmate_time
from apps.importing.context import ImportRun, content_hash
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


def client_certificates_import(run: ImportRun) -> None:
    folder = f"{run.layout.data}certs/client/"
    groups: dict[tuple[str, str], list[str]] = {}
    for path in run.source.files:
        if not path.startswith(folder):
            continue
        parts = path[len(folder) :].split("/")
        if len(parts) != 3:
            run.report.add(path, Outcome.SKIPPED, "not inside a client certificate's folder")
            continue
        groups.setdefault((parts[0], parts[1]), []).append(path)
    for (usage, identifier), paths in sorted(groups.items()):
        _client(run, f"{folder}{usage}/{identifier}/", usage, identifier, sorted(paths))


def _client(run: ImportRun, folder: str, usage: str, identifier: str, paths: list[str]) -> None:
    known = {f"{identifier}.crt", f"{identifier}.key", "metadata.json"}
    for path in paths:
        name = path.rsplit("/", 1)[1]
        if name == f"{identifier}.csr":
            run.report.add(path, Outcome.SKIPPED, "the CSR it was signed from (not needed once signed)")
        elif name not in known:
            run.report.add(path, Outcome.SKIPPED, "not a file CertMate keeps for a client certificate")
    read = [p for p in paths if p.rsplit("/", 1)[1] in known]
    key = f"certificate:client:{usage}/{identifier}"
    digest = content_hash([[p, run.read_text(p)] for p in read])
    existing = run.target_of(key, Certificate)
    item = f"{folder} (client certificate {identifier[:100]})"
    if existing is not None and run.same_as_before(key, digest):
        run.report.add(item, Outcome.UNCHANGED, "imported before")
        for path in read:
            run.report.add(path, Outcome.UNCHANGED, f"imported before into client certificate {existing.identifier}")
        return
    ok = run.each(item, lambda: _client_store(run, folder, usage, identifier, key, digest))
    reason = f"a file of client certificate {identifier[:100]}" if ok else "not imported (see above)"
    for path in read:
        run.report.add(path, Outcome.IMPORTED if ok else Outcome.ATTENTION, reason)


def _metadata(run: ImportRun, path: str) -> dict:
    if not run.source.exists(path):
        return {}
    try:
        data = json.loads(run.read_text(path))
    except ValueError:
        raise ValidationError(f"{path} is not valid JSON: fix or remove it, then import again") from None
    return data if isinstance(data, dict) else {}


def _client_store(run: ImportRun, folder: str, usage: str, identifier: str, key: str, digest: str):
    if run.authority is None:
        raise ValidationError("CertMate's private CA was not imported (see its entry): its client certificates wait")
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValidationError(f"{identifier[:100]!r} is not a name certmate keeps for a client certificate")
    meta = _metadata(run, folder + "metadata.json")
    if not run.source.exists(f"{folder}{identifier}.crt"):
        raise ValidationError(f"no {identifier}.crt in its folder")
    cert_pem = run.read_text(f"{folder}{identifier}.crt")
    certificate = certificate_parse(cert_pem)
    if certificate.issuer != x509.load_pem_x509_certificate(run.authority.certificate_pem.encode()).subject:
        raise ValidationError(f"{identifier}.crt was not signed by CertMate's private CA")
    key_pem, note = "", " (its key stayed with the requester: signed from a CSR)"
    if run.source.exists(f"{folder}{identifier}.key"):
        key_pem = run.read_text(f"{folder}{identifier}.key")
        key_matches(certificate, private_key_parse(key_pem))
        note = ""
    revoked = bool(meta.get("revoked"))
    reason = str(meta.get("reason_revoked") or "unspecified").lower()
    version = ExistingVersion(
        cert_pem=cert_pem,
        chain_pem=run.authority.certificate_pem,
        key_pem=key_pem,
        revoked_at=(certmate_time(meta.get("revoked_at")) or certificate.not_valid_before_utc) if revoked else None,
        revocation_reason=_REASONS.get(reason, reason.replace("_", "")) if revoked else "",
        facts=certificate_facts(cert_pem),
    )
    subject = {name: str(meta[name])[:200] for name in ("common_name", "organization", "organizational_unit", "email")
               if meta.get(name)}  # fmt: skip
    settings = {
        "authority": run.authority,
        "profile": run.authority.profiles.filter(name="client").first(),
        "usage": usage[:40],
        "notes": str(meta.get("notes") or "")[:1000],
        "subject_fields": subject,
        "auto_renew": bool(meta.get("renewal_enabled", True)) and not revoked,
    }
    if isinstance(meta.get("days_valid"), int):
        settings["validity_days"] = meta["days_valid"]
    imported = certificate_import(
        kind=CertificateKind.CLIENT, identifier=identifier, versions=[version], settings=settings, actor=run.actor
    )
    run.remember(key, "client_certificate", digest, imported.certificate)
    state = " (revoked)" if revoked else ""
    if not imported.added:
        return Outcome.UNCHANGED, f"client certificate {identifier[:100]} was here already{state}"
    return Outcome.IMPORTED, f"client certificate {identifier[:100]}{state}{note}"
