"""CertMate's server certificates: each ``certificates/<domain>/`` folder with every issuance of its
certbot lineage, in order, and its settings from ``domains`` and ``metadata.json``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count

from apps.certificates.domains import domains_clean
from apps.certificates.models import Certificate, CertificateKind, Challenge
from apps.certificates.services.imports import certificate_import
from apps.importing.certmate_settings import DomainSpec, domain_specs
from apps.importing.challenges import (
    CertificateChallenge,
    challenge_digest_part,
    challenge_resolve,
    challenge_top_level_report,
)
from apps.importing.context import ImportRun, content_hash
from apps.importing.lineage import Lineage, lineage_read
from apps.importing.report import Outcome

MAX_RENEW_BEFORE_DAYS = 365


def certificate_folders(run: ImportRun) -> dict[str, list[str]]:
    """The source's files under certificates/, by domain folder; files loose in certificates/ are reported."""
    prefix = run.layout.certificates
    folders: dict[str, list[str]] = {}
    for path in run.source.files:
        if not path.startswith(prefix):
            continue
        domain, slash, _ = path[len(prefix) :].partition("/")
        if not slash:
            run.report.add(path, Outcome.SKIPPED, "not inside a certificate's folder")
            continue
        folders.setdefault(domain, []).append(path)
    return folders


def server_certificates_import(run: ImportRun) -> None:
    challenge_top_level_report(run)
    specs = {spec.domain: spec for spec in domain_specs(run.settings)}
    folders = certificate_folders(run)
    keys = [_key(domain) for domain in folders]
    run.preload(keys, Certificate.objects.annotate(version_count=Count("versions")))
    for domain in sorted(folders):
        spec = specs.pop(domain.lower(), None)
        _certificate(run, domain, folders[domain], spec)
    for spec in specs.values():
        run.report.add(
            spec.item,
            Outcome.ATTENTION,
            f"no certificate folder for {spec.domain} in the source: request the certificate here to issue it",
        )


def _key(domain: str) -> str:
    return f"certificate:server:{domain.lower()}"


def _certificate(run: ImportRun, domain: str, paths: list[str], spec: DomainSpec | None) -> None:
    folder = f"{run.layout.certificates}{domain}/"
    key = _key(domain)
    quick = lineage_read(run.source, folder, domain, paths, parse=False)
    digest = content_hash([quick.content_hash, asdict(spec) if spec else None, *challenge_digest_part(run)])
    existing = run.target_of(key, Certificate)
    item = f"{folder} (certificate {domain[:253]})"
    if existing is not None and run.same_as_before(key, digest):
        run.report.add(item, Outcome.UNCHANGED, f"imported before, with {existing.version_count} version(s)")
        for path in paths:
            run.report.add(path, Outcome.UNCHANGED, f"imported before into {existing.identifier}")
        if spec is not None:
            run.report.add(spec.item, Outcome.UNCHANGED, f"the settings of {existing.identifier}")
        return
    lineage = lineage_read(run.source, folder, domain, paths)
    ok = run.each(item, lambda: _store(run, key, digest, lineage, spec))
    for found in lineage.versions:
        outcome = Outcome.IMPORTED if ok and found.version is not None else Outcome.ATTENTION
        reason = found.problem or ("a version of " + domain if ok else "its certificate was not imported (see above)")
        if found.version is not None and found.problem and ok:
            outcome = Outcome.ATTENTION
        for path in found.paths:
            run.report.add(path, outcome, reason)
    for path, (outcome, reason) in lineage.notes.items():
        run.report.add(path, outcome, reason)
    if spec is not None:
        run.report.add(spec.item, Outcome.IMPORTED if ok else Outcome.ATTENTION, f"the settings of {domain}")


def _setting(lineage: Lineage, spec: DomainSpec | None, name: str, meta_name: str) -> Any:
    value = getattr(spec, name, None) if spec is not None else None
    return value if value not in (None, "") else lineage.metadata.get(meta_name)


def _store(run: ImportRun, key: str, digest: str, lineage: Lineage, spec: DomainSpec | None) -> tuple[Outcome, str]:
    versions = lineage.importable
    if not versions:
        raise ValidationError(f"no readable version of {lineage.domain} in its folder: nothing to import")
    newest = versions[-1].facts
    identifier = lineage.domain.lower()
    sans = spec.san_domains if spec and spec.san_domains else [n for n in newest.san if n != identifier]
    if not sans and isinstance(lineage.metadata.get("san_domains"), list):
        sans = [str(n).lower() for n in lineage.metadata["san_domains"] if n != identifier]
    names = domains_clean(identifier, sans)
    challenge = challenge_resolve(
        metadata=lineage.metadata,
        entry_value=spec.extra.get("challenge_type") if spec else None,
        top_level=run.settings.get("challenge_type"),
        names=names,
    )
    dns_key = (str(_setting(lineage, spec, "dns_provider", "dns_provider") or ""),
               str(_setting(lineage, spec, "dns_account_id", "account_id") or "default"))  # fmt: skip
    ca_key = (str(_setting(lineage, spec, "ca_provider", "ca_provider") or ""),
              str(_setting(lineage, spec, "ca_account_id", "ca_account_id") or "default"))  # fmt: skip
    settings: dict[str, Any] = {
        "dns_account": run.dns_accounts.get(dns_key),
        "ca_account": run.ca_accounts.get(ca_key) or _only_account_of(run, ca_key[0]),
        "challenge": challenge.challenge,
    }
    if spec is not None and spec.auto_renew is not None:
        settings["auto_renew"] = spec.auto_renew
    if spec is not None and spec.renew_before_days and 0 < spec.renew_before_days <= MAX_RENEW_BEFORE_DAYS:
        settings["renew_before_days"] = spec.renew_before_days
    imported = certificate_import(
        kind=CertificateKind.SERVER,
        identifier=names[0],
        san_domains=names[1:],
        versions=versions,
        settings=settings,
        renewal_threshold_days=run.renewal_threshold_days,
        actor=run.actor,
    )
    run.remember(key, "certificate", digest, imported.certificate)
    _challenge_report(run, lineage, imported.certificate, challenge)
    http01 = imported.certificate.challenge == Challenge.HTTP_01
    accounts = {"DNS": settings["dns_account"], "CA": settings["ca_account"]}
    if http01:
        del accounts["DNS"]  # an http-01 order needs none
    missing = [what for what, account in accounts.items() if not account]
    note = f" (no {' or '.join(missing)} account from CertMate: the tenant's default renews it)" if missing else ""
    if http01 and challenge.http01:
        note = f", ordered with http-01 as in CertMate{note}"
    if not imported.added:
        return Outcome.UNCHANGED, f"all {imported.known} versions were here already{note}"
    return Outcome.IMPORTED, f"{len(imported.added)} version(s) added, {imported.known} already here{note}"


def _challenge_report(run: ImportRun, lineage: Lineage, certificate: Certificate, wanted: CertificateChallenge) -> None:
    """Say when CertMate's challenge could not be kept: a wildcard, an unknown value, or a certificate
    imported before whose challenge (perhaps chosen here since) differs from CertMate's."""
    item = f"{run.layout.certificates}{lineage.domain}/ (certificate {lineage.domain[:253]}): challenge"
    if wanted.problem:
        run.report.add(item, Outcome.ATTENTION, wanted.problem)
    elif certificate.challenge != wanted.challenge:
        run.report.add(
            item,
            Outcome.ATTENTION,
            f"CertMate orders it with {wanted.challenge} (from {wanted.source or 'its default'}); it orders "
            f"with {certificate.challenge} here, as set before this import: change it in the admin if "
            "CertMate's is right",
        )


def _only_account_of(run: ImportRun, provider: str):
    """The CA account of ``provider`` when CertMate had exactly one (metadata often names no account)."""
    accounts = [account for (p, _), account in run.ca_accounts.items() if p == provider]
    return accounts[0] if len(accounts) == 1 else None
