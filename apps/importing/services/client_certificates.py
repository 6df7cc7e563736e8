"""CertMate's client certificates (``data/certs/client/<usage>/<identifier>/``), signed by its private CA,
into the tenant's private CA: one certificate per renewal chain (CertMate gives a renewal a new
identifier and marks the old one ``superseded_by``), each issuance a version in order, revocations kept."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from cryptography import x509
from django.core.exceptions import ValidationError

from apps.certificates.models import Certificate, CertificateKind
from apps.certificates.parsing import certificate_facts
from apps.certificates.pki.material import key_matches, private_key_parse
from apps.certificates.services.imports import ExistingVersion, certificate_import
from apps.importing.certmate_settings import certmate_time
from apps.importing.context import ImportRun, content_hash
from apps.importing.report import Outcome

_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,252}")
_REASONS = {"key_compromise": "keycompromise", "ca_compromise": "cacompromise", "affiliation_changed":
            "affiliationchanged", "cessation_of_operation": "cessationofoperation", "certificate_hold":
            "certificatehold", "privilege_withdrawn": "privilegewithdrawn"}  # fmt: skip
_SUBJECT = ("common_name", "organization", "organizational_unit", "email")


@dataclass
class ClientFolder:
    usage: str
    identifier: str
    folder: str
    read: list[str] = field(default_factory=list)  # the files imported from it (crt, key, metadata)
    meta: dict = field(default_factory=dict)


def client_certificates_import(run: ImportRun) -> None:
    folders = _folders(run)
    successor = {f.identifier: str(f.meta["superseded_by"]) for f in folders.values()
                 if str(f.meta.get("superseded_by") or "") in folders}  # fmt: skip
    before = {new: old for old, new in successor.items()}
    reached = set()
    for identifier in sorted(folders):
        if identifier in successor:
            continue
        chain, current = [], identifier
        while current is not None and current not in chain:
            chain.insert(0, current)
            current = before.get(current)
        reached.update(chain)
        _chain(run, [folders[i] for i in chain])
    for identifier in sorted(set(folders) - reached):
        for path in folders[identifier].read:
            run.report.add(path, Outcome.ATTENTION, "its superseded_by links loop: import it by hand")


def _folders(run: ImportRun) -> dict[str, ClientFolder]:
    """Every client certificate folder by identifier; files that are not read are reported here."""
    base = f"{run.layout.data}certs/client/"
    folders: dict[str, ClientFolder] = {}
    for path in sorted(run.source.files):
        if not path.startswith(base):
            continue
        parts = path[len(base) :].split("/")
        if len(parts) != 3:
            run.report.add(path, Outcome.SKIPPED, "not inside a client certificate's folder")
            continue
        usage, identifier, name = parts
        found = folders.setdefault(identifier, ClientFolder(usage, identifier, f"{base}{usage}/{identifier}/"))
        if name in (f"{identifier}.crt", f"{identifier}.key", "metadata.json"):
            found.read.append(path)
        elif name == f"{identifier}.csr":
            run.report.add(path, Outcome.SKIPPED, "the CSR it was signed from (not needed once signed)")
        else:
            run.report.add(path, Outcome.SKIPPED, "not a file CertMate keeps for a client certificate")
    for found in folders.values():
        path = found.folder + "metadata.json"
        try:
            meta = json.loads(run.read_text(path)) if path in found.read else {}
        except ValueError:
            meta = {"_unreadable": True}
        found.meta = meta if isinstance(meta, dict) else {"_unreadable": True}
    return folders


def _chain(run: ImportRun, chain: list[ClientFolder]) -> None:
    newest = chain[-1]
    key = f"certificate:client:{newest.usage}/{newest.identifier}"
    paths = [path for folder in chain for path in folder.read]
    digest = content_hash([[path, run.read_text(path)] for path in paths])
    existing = run.target_of(key, Certificate)
    item = f"{newest.folder} (client certificate {newest.identifier[:100]})"
    if existing is not None and run.same_as_before(key, digest):
        run.report.add(item, Outcome.UNCHANGED, "imported before")
        for path in paths:
            run.report.add(path, Outcome.UNCHANGED, f"imported before into client certificate {existing.identifier}")
        return
    ok = run.each(item, lambda: _store(run, chain, key, digest))
    reason = f"a version of client certificate {newest.identifier[:100]}" if ok else "not imported (see above)"
    for path in paths:
        run.report.add(path, Outcome.IMPORTED if ok else Outcome.ATTENTION, reason)


def _version(run: ImportRun, found: ClientFolder, issuer: x509.Name) -> tuple[ExistingVersion, bool]:
    """One folder's issuance (and whether its key stayed with the requester)."""
    if found.meta.get("_unreadable"):
        raise ValidationError(f"{found.folder}metadata.json is not valid JSON: fix or remove it, then import again")
    crt = f"{found.folder}{found.identifier}.crt"
    if crt not in found.read:
        raise ValidationError(f"no {found.identifier}.crt in {found.folder}")
    cert_pem = run.read_text(crt)
    certificate = x509.load_pem_x509_certificate(cert_pem.encode())  # expired ones too: past versions are
    if certificate.issuer != issuer:
        raise ValidationError(f"{crt} was not signed by CertMate's private CA")
    key_pem = ""
    if f"{found.folder}{found.identifier}.key" in found.read:
        key_pem = run.read_text(f"{found.folder}{found.identifier}.key")
        key_matches(certificate, private_key_parse(key_pem))
    meta = found.meta
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
    return version, not key_pem


def _store(run: ImportRun, chain: list[ClientFolder], key: str, digest: str) -> tuple[Outcome, str]:
    newest = chain[-1]
    if run.authority is None:
        raise ValidationError("CertMate's private CA was not imported (see its entry): its client certificates wait")
    if not _IDENTIFIER.fullmatch(newest.identifier):
        raise ValidationError(f"{newest.identifier[:100]!r} is not a name certmate keeps for a client certificate")
    issuer = x509.load_pem_x509_certificate(run.authority.certificate_pem.encode()).subject
    versions = [_version(run, found, issuer) for found in chain]
    meta = newest.meta
    revoked = versions[-1][0].revoked_at is not None
    settings = {
        "authority": run.authority,
        "profile": run.authority.profiles.filter(name="client").first(),
        "usage": str(meta.get("cert_usage") or newest.usage)[:40],
        "notes": str(meta.get("notes") or "")[:1000],
        "subject_fields": {name: str(meta[name])[:200] for name in _SUBJECT if meta.get(name)},
        "auto_renew": bool(meta.get("renewal_enabled", True)) and not revoked,
    }
    if isinstance(meta.get("days_valid"), int) and 0 < meta["days_valid"] <= 3650:
        settings["validity_days"] = meta["days_valid"]
    imported = certificate_import(
        kind=CertificateKind.CLIENT,
        identifier=newest.identifier,
        versions=[version for version, _ in versions],
        settings=settings,
        renewal_threshold_days=run.renewal_threshold_days,
        actor=run.actor,
    )
    run.remember(key, "client_certificate", digest, imported.certificate)
    state = " (revoked)" if revoked else ""
    state += " (its key stayed with the requester: signed from a CSR)" if versions[-1][1] else ""
    if not imported.added:
        return Outcome.UNCHANGED, f"client certificate {newest.identifier[:100]} was here already{state}"
    added = len(imported.added)
    return Outcome.IMPORTED, f"client certificate {newest.identifier[:100]} with {added} version(s){state}"
