"""Exporting the current tenant: every row of its schema, in one consistent snapshot, into one encrypted
archive. Secrets leave their at-rest encryption only inside the archive's, so the archive restores onto
another encryption key."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import django
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from apps.accounts.models import Tenant
from apps.backups.archive import FORMAT, KIND, Digest, add_manifest, add_member, member_name, tar_writer
from apps.backups.crypto import BackupError, EncryptingWriter, passphrase_check
from apps.backups.tables import Table, applied_migrations, quoted, schema_tables
from certmate import encryption
from certmate.actors import Actor
from certmate.audit.services import audit_record

AUDIT_TYPE = "backup"
_FETCH = 2000  # rows per round trip of the server-side cursor


@dataclass(frozen=True)
class ExportReport:
    tenant: str
    tables: int
    rows: int
    key: str  # passphrase or platform


def _order(table: Table) -> str:
    columns = table.key_columns or table.columns[:1]
    return ", ".join(f"t.{connection.ops.quote_name(column)}" for column in columns)


def _dump_table(schema: str, table: Table, path: Path) -> Digest:
    """The table's rows as JSON lines in ``path``; secrets decrypted to plaintext (the archive encrypts)."""
    digest = Digest()
    sql = f"SELECT row_to_json(t)::text FROM {quoted(schema, table.name)} t ORDER BY {_order(table)}"  # noqa: S608
    with path.open("wb") as out, connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_FETCH):
            for (text,) in rows:
                if table.secret_columns:
                    text = _plaintext_row(table, text)
                line = text.encode() + b"\n"
                digest.add(line)
                out.write(line)
    return digest


def _plaintext_row(table: Table, text: str) -> str:
    row = json.loads(text)
    for column in table.secret_columns:
        if row.get(column) is not None:
            try:
                row[column] = encryption.decrypt(row[column])
            except encryption.DecryptionError as exc:
                raise BackupError(f"{table.name}.{column} of row {row.get('id')}: {exc}") from None
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def _tenant_document(schema: str) -> dict:
    tenant = Tenant.objects.get(schema_name=schema)
    domains = sorted(tenant.domains.all(), key=lambda d: (not d.is_primary, d.domain))
    return {"slug": schema, "name": tenant.name, "domains": [d.domain for d in domains]}


def _content_types(schema: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, app_label, model FROM {quoted(schema, 'django_content_type')} ORDER BY id")  # noqa: S608
        return [list(row) for row in cursor.fetchall()]


def _snapshot(schema: str, folder: Path) -> dict:
    """Every table dumped into ``folder`` from one snapshot of the schema; the manifest that lists them."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # the first statement of a transaction of its own: one snapshot for every table
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        tables = []
        for table in schema_tables(schema):
            digest = _dump_table(schema, table, folder / f"{table.name}.jsonl")
            tables.append(
                {
                    "name": table.name,
                    "columns": list(table.columns),
                    "secret_columns": list(table.secret_columns),
                    "rows": digest.rows,
                    "sha256": digest.sha256,
                }
            )
        return {
            "format": FORMAT,
            "kind": KIND,
            "tenant": _tenant_document(schema),
            "created_at": timezone.now().isoformat(),
            "django": django.get_version(),
            "migrations": applied_migrations(schema),
            "content_types": _content_types(schema),
            "tables": tables,
        }


def tenant_export(*, sink: IO[bytes], passphrase: str | None = None, actor: Actor, label: str = "") -> ExportReport:
    """Write the current tenant's backup to ``sink``: encrypted with ``passphrase`` (scrypt) or, without one,
    with the platform's backup key. Records ``backup.created`` in the tenant's audit log once written
    (the archive holds the log up to the event before it)."""
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise BackupError("the public schema is the platform, not a tenant: back it up with pg_dump")
    if passphrase is not None:
        passphrase_check(passphrase)
    with tempfile.TemporaryDirectory(prefix="certmate-export-") as folder:
        os.chmod(folder, 0o700)
        manifest = _snapshot(schema, Path(folder))
        metadata = {"tenant": schema, "created_at": manifest["created_at"], "rows": _rows(manifest)}
        writer = EncryptingWriter(sink, metadata=metadata, passphrase=passphrase)
        with tar_writer(writer) as tar:
            add_manifest(tar, manifest)
            for table in manifest["tables"]:
                path = Path(folder) / f"{table['name']}.jsonl"
                with path.open("rb") as content:
                    add_member(tar, member_name(table["name"]), content, path.stat().st_size)
        writer.close()
    key = "passphrase" if passphrase is not None else "platform"
    report = ExportReport(schema, len(manifest["tables"]), _rows(manifest), key)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="backup.created",
            object_type=AUDIT_TYPE,
            object_name=label or f"{schema} at {manifest['created_at']}",
            changes={"tables": report.tables, "rows": report.rows, "key": key},
        )
    return report


def _rows(manifest: dict) -> int:
    return sum(table["rows"] for table in manifest["tables"])
