"""Import a CertMate install (a folder or a backup zip) into the current tenant: one audited operation
in one transaction (an interruption leaves nothing half-done), each object in its own savepoint (a bad
one is reported and the rest imports), and a report entry for every file and setting read.

Recorded as ``certmate.imported`` (the report's counts) when something was imported; a run that finds
everything already imported records nothing and changes nothing."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from apps.certificates.domains import domain_clean
from apps.importing.certmate_settings import NOT_IMPORTED, settings_parse
from apps.importing.context import ImportRun, Layout
from apps.importing.report import Outcome, Report
from apps.importing.services.client_certificates import client_certificates_import
from apps.importing.services.notifications import notifications_import
from apps.importing.services.people import tokens_import, users_import
from apps.importing.services.private_ca import private_ca_import
from apps.importing.services.provider_accounts import (
    ca_accounts_import,
    default_accounts_import,
    dns_accounts_import,
    tenant_defaults_import,
)
from apps.importing.services.server_certificates import server_certificates_import
from apps.importing.services.storage_target import storage_import
from apps.importing.source import Source, SourceError, source_open
from certmate.actors import Actor
from certmate.audit.services import audit_record

STEPS = (
    dns_accounts_import,
    ca_accounts_import,
    tenant_defaults_import,
    default_accounts_import,
    private_ca_import,
    client_certificates_import,
    server_certificates_import,
    users_import,
    tokens_import,
    storage_import,
    notifications_import,
)
# Settings certmate has a place for elsewhere: reported as needing someone to set them up again.
REDO = {
    "oidc": "single sign-on: set up the tenant's OIDC provider in the admin (its client secret is CertMate's)",
    "webhooks": "webhooks: set up the tenant's notification channels again",
    "smtp": "e-mail delivery is the platform's: set up the tenant's e-mail channel",
    "monitored_endpoints": "endpoint monitoring: certmate does not probe hosts (yet): keep monitoring them elsewhere",
    "ct_monitoring": "certificate transparency monitoring: set it up outside certmate",
    "audit_sink": "audit forwarding: certmate's audit log is read through /api/audit",
    "deploy_hooks": "deploy hooks do not run in certmate: consumers pick certificates up from a storage target",
}
# Files and folders of an install that are not imported, and why.
OTHER_FILES = {
    "backup_metadata.json": "the backup's manifest",
    "data/audit/": "CertMate's audit log: certmate's own (hash-chained) log records the import and what follows",
    "data/.audit_signing_key": "CertMate's audit signing key: certmate's audit log is its own",
    "data/.certmate_persistent": "CertMate's marker of a persistent data volume",
    "data/scheduler_jobs.sqlite": "CertMate's scheduler state: certmate's beat schedules the renewals",
    "data/acme-challenges/": "CertMate's HTTP-01 webroot: tokens of its own orders (certmate answers http-01 itself)",
    "data/inventory/": "CertMate's inventory of certificates discovered on hosts",
    "data/certs/crl/": "CertMate's CRLs: certmate signs its own for the imported CA",
    "data/.secret_key": "CertMate's secret key: kept only when API tokens hashed with it are imported",
    "backups/": "CertMate's own backups (import one of them instead if it is newer than this)",
    "logs/": "CertMate's logs",
}


def layout_of(source: Source) -> Layout:
    """Where settings, data and certificates are: a backup zip and a data folder keep settings.json at
    the top (a data folder its PKI under certs/), CertMate's base folder under data/."""
    if source.exists("settings.json"):
        in_data = any(path.startswith("certs/") for path in source.files)
        return Layout(settings="settings.json", data="" if in_data else "data/", certificates="certificates/")
    if source.exists("data/settings.json"):
        return Layout(settings="data/settings.json", data="data/", certificates="certificates/")
    return Layout(settings=None, data="data/", certificates="certificates/")


def _secret_key(run: ImportRun, given: str | None) -> str | None:
    path = f"{run.layout.data}.secret_key"
    if given:
        return given.strip()
    if run.source.exists(path):
        return run.read_text(path).strip() or None
    return None


def _read_settings(run: ImportRun) -> None:
    path = run.layout.settings
    if path is None:
        run.report.add("settings.json", Outcome.ATTENTION, "not in the source: only certificates are imported")
        return
    try:
        run.settings = settings_parse(run.source.read(path))
    except (ValueError, SourceError) as exc:
        run.report.add(path, Outcome.ATTENTION, f"unreadable ({exc}): its accounts, users and tokens are not imported")
        return
    run.report.add(path, Outcome.UNCHANGED, "read: its settings are listed one by one below")


def _settings_rest(run: ImportRun) -> None:
    """Every top-level setting no step reported on: why it is not imported."""
    covered = {entry.item.split(":", 1)[1].strip().split(".")[0].split(" ")[0].split("[")[0]
               for entry in run.report.entries if entry.item.startswith("settings.json: ")}  # fmt: skip
    for key, value in run.settings.items():
        if key in covered:
            continue
        item = f"settings.json: {str(key)[:100]}"
        if key in NOT_IMPORTED:
            run.report.add(item, Outcome.SKIPPED, NOT_IMPORTED[key])
        elif key in REDO and value and (not isinstance(value, dict) or value.get("enabled", True)):
            run.report.add(item, Outcome.ATTENTION, REDO[key])
        elif key in REDO or value in (None, "", [], {}):
            run.report.add(item, Outcome.SKIPPED, "empty or disabled in CertMate")
        else:
            run.report.add(item, Outcome.ATTENTION, "a CertMate setting certmate has no place for: not imported")


def _files_rest(run: ImportRun) -> None:
    """Every file of the source no step reported on, and every entry the reader refused."""
    covered = run.report.covered()
    prefixes = {prefix.replace("data/", run.layout.data, 1): why for prefix, why in OTHER_FILES.items()}
    for path, why in run.source.refused.items():
        outcome = Outcome.SKIPPED if "/live/" in f"/{path}" else Outcome.ATTENTION
        run.report.add(path, outcome, f"not read: {why}")
    for path in sorted(run.source.files):
        if path in covered:
            continue
        reason = next((why for prefix, why in prefixes.items() if path.startswith(prefix)), None)
        run.report.add(path, Outcome.SKIPPED, reason or "not a file CertMate keeps its data in")


def certmate_import(
    *, path: Path, actor: Actor, dry_run: bool = False, secret_key: str | None = None, users_domain: str = ""
) -> Report:
    """Import the CertMate install at ``path`` into the current tenant; the report of what became of
    every file and setting. ``dry_run`` does all of it and rolls it back. SourceError when ``path``
    cannot be read at all."""
    source = source_open(Path(path))
    try:
        report = Report(source=source.label, dry_run=dry_run)
        run = ImportRun(source=source, layout=layout_of(source), report=report, actor=actor)
        run.secret_key = _secret_key(run, secret_key)
        run.users_domain = domain_clean(users_domain) if users_domain else ""
        with transaction.atomic():
            run.load_known()
            _read_settings(run)
            for step in STEPS:
                step(run)
            _settings_rest(run)
            _files_rest(run)
            run.flush()
            if report.changed:
                audit_record(
                    actor=actor,
                    action="certmate.imported",
                    object_type="certmate_import",
                    object_name=Path(path).name[:200],
                    changes={"counts": report.counts()},
                )
            if dry_run:
                transaction.set_rollback(True)
        return report
    finally:
        source.close()
