"""`manage.py tenant export SLUG FILE` and `manage.py tenant import FILE --slug NEW`, as actions of accounts'
`tenant` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._tenant import in_tenant
from apps.accounts.tenant_actions import TenantAction, tenant_action_register
from apps.backups.crypto import BackupError
from apps.backups.services import tenant_export, tenant_import
from certmate.actors import Actor

KEY_HELP = (
    "a file whose first line is the passphrase (12+ characters; - reads standard input); without it the "
    "platform key (CERTMATE_BACKUP_KEYS, else the encryption keys) encrypts"
)


def _passphrase(path: str | None) -> str | None:
    if not path:
        return None
    try:
        text = sys.stdin.readline() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise CommandError(f"cannot read the passphrase file {path}: {exc.strerror}") from None
    return text.splitlines()[0] if text.strip() else ""


def _export_arguments(parser) -> None:
    parser.add_argument("slug", help="the tenant to export")
    parser.add_argument("file", help="the archive to write (refused if it exists); mode 0600")
    parser.add_argument("--passphrase-file", help=KEY_HELP)


def _export(command, *, slug, file, passphrase_file, **_) -> None:
    target = Path(file)
    passphrase = _passphrase(passphrase_file)
    partial = target.with_name(f".{target.name}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{partial} exists: another export is writing it, or remove it") from None
    except OSError as exc:
        raise CommandError(f"cannot write {file}: {exc.strerror}") from None
    try:
        if target.exists():
            raise CommandError(f"{file} exists: choose another file name (an archive is never overwritten)")
        with in_tenant(slug), os.fdopen(descriptor, "wb") as sink:
            actor = Actor.command(name="manage.py tenant export")
            report = tenant_export(sink=sink, passphrase=passphrase, actor=actor)
        partial.rename(target)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    finally:
        partial.unlink(missing_ok=True)
    command.stdout.write(
        f"exported tenant {slug}: {report.rows} rows of {report.tables} tables to {file} "
        f"(encrypted with the {report.key}{'' if report.key == 'passphrase' else ' key'})"
    )


def _import_arguments(parser) -> None:
    parser.add_argument("file", help="an archive written by `tenant export` (or downloaded from /api/backups)")
    parser.add_argument("--slug", required=True, help="a new tenant's slug, or with --replace the archive's own")
    parser.add_argument("--domain", help="the new tenant's host (default: the archive's, with the new slug first)")
    parser.add_argument("--name", help="the new tenant's display name (default: the archive's)")
    parser.add_argument("--passphrase-file", help="the passphrase it was exported with (a file; - reads stdin)")
    parser.add_argument("--replace", action="store_true", help="restore into the existing tenant, emptied first")
    parser.add_argument("--yes", action="store_true", help="confirm --replace: every row of the tenant is replaced")


def _import(command, *, file, slug, domain, name, passphrase_file, replace, yes, **_) -> None:
    if replace and not yes:
        raise CommandError(f"--replace empties tenant {slug!r} and puts the archive's rows in: add --yes to confirm")
    passphrase = _passphrase(passphrase_file)
    try:
        with open(file, "rb") as source:
            report = tenant_import(
                source=source,
                slug=slug,
                domain=domain,
                name=name,
                passphrase=passphrase,
                replace=replace,
                actor=Actor.command(name="manage.py tenant import"),
            )
    except OSError as exc:
        raise CommandError(f"cannot read {file}: {exc.strerror}") from None
    except BackupError as exc:
        raise CommandError(f"{exc}; nothing was restored") from None
    except ValidationError as exc:
        raise command_error(exc) from None
    command.stdout.write(
        f"restored tenant {report.source} as {report.tenant}: {report.rows} rows of {report.tables} tables; "
        "its certificates are being published again to its storage target"
    )


def register() -> None:
    tenant_action_register(
        TenantAction("export", "write one encrypted archive of a tenant", _export_arguments, _export)
    )
    tenant_action_register(
        TenantAction("import", "restore an archive as a new tenant (or replace its own)", _import_arguments, _import)
    )
