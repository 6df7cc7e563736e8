"""Restoring a backup: into a new tenant, or into the tenant it came from once emptied. All or nothing: the
tenant, its domain and every row come in one transaction, so a wrong key, a changed archive or any failure
part-way leaves no tenant behind (and the replaced tenant as it was)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from apps.accounts.services.template import template_schema_ensure_current
from apps.accounts.services.tenants import tenant_create
from apps.accounts.validators import validate_tenant_slug
from apps.backups.archive import Digest, read_members
from apps.backups.crypto import DecryptingReader, Tampered
from apps.backups.services.export import AUDIT_TYPE
from apps.backups.tables import Table, applied_migrations, migration_differences, quoted, schema_tables
from certmate import encryption
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_record
from certmate.dispatch import dispatch_on_commit

REPUBLISH_TASK = "apps.backups.tasks.backup_republish_task"
_BATCH_ROWS, _BATCH_BYTES = 1000, 4 * 1024 * 1024
_MAX_ROW = 64 * 1024 * 1024  # no row of certmate's comes near; a longer line is not one of its archives


@dataclass(frozen=True)
class RestoreReport:
    tenant: str
    source: str
    tables: int
    rows: int


def _derived_domain(manifest: dict[str, Any], slug: str) -> str:
    """The archive's primary host with the new slug as its first label (alpha.example.com → gamma.example.com)."""
    domains = manifest.get("tenant", {}).get("domains") or []
    parent = str(domains[0]).partition(".")[2] if domains else ""
    if not parent:
        raise ValidationError("the archive names no host to derive the new one from: give the domain", code="invalid")
    return f"{slug.replace('_', '-')}.{parent}"


def _check_fits(manifest: dict[str, Any], schema: str) -> list[Table]:
    """The schema's tables, once the archive is known to match this code's migrations and structure."""
    differences = migration_differences(manifest.get("migrations") or {}, applied_migrations(schema))
    if differences:
        raise ValidationError(
            "this backup was made by a certmate with other migrations, so its rows do not fit this one: "
            + "; ".join(differences[:6])
            + ". Restore it with the certmate version that made it, then upgrade.",
            code="migrations_differ",
        )
    tables = {table.name: table for table in schema_tables(schema)}
    for entry in manifest.get("tables") or []:
        table = tables.get(entry.get("name"))
        if table is None or list(table.columns) != entry.get("columns"):
            raise ValidationError(f"table {entry.get('name')!r} of the backup does not fit this schema", code="invalid")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, app_label, model FROM {quoted(schema, 'django_content_type')} ORDER BY id")  # noqa: S608
        if [list(row) for row in cursor.fetchall()] != manifest.get("content_types"):
            raise ValidationError(
                "this backup's content types are numbered unlike this installation's (its tenants were made "
                "from another template): it cannot be restored here",
                code="invalid",
            )
    return list(tables.values())


def _encrypt_row(table: Table, line: bytes) -> Any:
    row = json.loads(line)
    for column in table.secret_columns:
        if row.get(column) is not None:
            row[column] = encryption.encrypt(row[column])
    return row


def _load_table(schema: str, table: Table, content: IO[bytes], expected: dict[str, Any], *, load: bool = True) -> int:
    """Insert the table's rows from the archive (``load``) or only check them against the manifest."""
    digest = Digest()
    insert = (
        f"INSERT INTO {quoted(schema, table.name)} OVERRIDING SYSTEM VALUE "  # noqa: S608
        f"SELECT * FROM json_populate_recordset(NULL::{quoted(schema, table.name)}, %s::json)"
    )
    batch: list[Any] = []
    size = 0
    with connection.cursor() as cursor:
        while line := content.readline(_MAX_ROW + 1):
            if len(line) > _MAX_ROW:
                raise Tampered(f"table {table.name} of the archive holds a row longer than {_MAX_ROW} bytes")
            digest.add(line)
            if not load:
                continue
            if table.secret_columns:
                batch.append(_encrypt_row(table, line))
            else:
                batch.append(json.loads(line))
            size += len(line)
            if len(batch) >= _BATCH_ROWS or size >= _BATCH_BYTES:
                cursor.execute(insert, [json.dumps(batch)])
                batch, size = [], 0
        if batch:
            cursor.execute(insert, [json.dumps(batch)])
    if digest.rows != expected.get("rows") or digest.sha256 != expected.get("sha256"):
        raise Tampered(f"table {table.name} of the archive does not match its manifest (rows or checksum)")
    return digest.rows


def _reset_identities(schema: str, tables: list[Table]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for column in table.identity_columns:
                name, col = quoted(schema, table.name), connection.ops.quote_name(column)
                following = f"(SELECT coalesce(max({col}), 0) + 1 FROM {name})"  # noqa: S608
                cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), {following}, false)", [name, column])


def _fill(schema: str, tables: list[Table], manifest: dict[str, Any], members, *, kept: frozenset[str]) -> int:
    """Empty the schema's tables and load the archive's rows into them; the ``kept`` tables stay as they
    are (their archived rows are checked, not loaded)."""
    by_name = {table.name: table for table in tables}
    expected = {entry["name"]: entry for entry in manifest["tables"]}
    with connection.cursor() as cursor:
        # Checks still pending from earlier writes of this transaction run now (TRUNCATE refuses to run
        # past them); the rows loaded next may refer to rows loaded later, so theirs wait for the commit.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        names = ", ".join(quoted(schema, name) for name in [*by_name, "django_session"] if name not in kept)
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    rows, seen = 0, []
    for name, content in members:
        if name not in expected or name in seen:
            raise Tampered(f"the archive holds table {name[:80]!r} twice or outside its manifest")
        seen.append(name)
        rows += _load_table(schema, by_name[name], content, expected[name], load=name not in kept)
    if set(seen) != set(expected):
        raise Tampered(f"the archive lacks tables its manifest lists: {', '.join(sorted(set(expected) - set(seen)))}")
    _reset_identities(schema, tables)
    return rows


def tenant_import(
    *,
    source: IO[bytes],
    slug: str,
    domain: str | None = None,
    name: str | None = None,
    passphrase: str | None = None,
    replace: bool = False,
    actor: Actor,
) -> RestoreReport:
    """Restore the backup read from ``source`` as tenant ``slug``: a new tenant (its domain given, or derived
    from the archive's), or with ``replace`` the existing tenant the archive came from, emptied first but
    for its audit log, which a restore never rewinds.
    Records ``backup.restored`` in the restored tenant's log, after the restored chain; then its current
    versions are published again from the database (the system of record) to its storage target."""
    slug = (slug or "").strip()
    validate_tenant_slug(slug)
    reader = DecryptingReader(source, passphrase=passphrase)  # a wrong key stops here, before any write
    manifest, members = read_members(reader)
    source_slug = str(manifest.get("tenant", {}).get("slug", ""))
    connection.set_schema_to_public()
    existing = Tenant.objects.filter(schema_name=slug).first()
    if existing is not None and not replace:
        raise ValidationError(
            f"tenant {slug!r} exists: choose a new slug, or replace it (emptied first) when the backup is its own",
            code="slug_taken",
        )
    if existing is None and replace:
        raise ValidationError(f"no tenant {slug!r} to replace: leave out replace to make it", code="not_found")
    if existing is not None and source_slug != slug:
        raise ValidationError(
            f"this backup is of tenant {source_slug!r}, not {slug!r}: only a tenant's own backup replaces it",
            code="invalid",
        )
    if existing is None:
        template_schema_ensure_current()
    tables = _check_fits(manifest, slug if existing else settings.TENANT_BASE_SCHEMA)
    with transaction.atomic():
        tenant = existing or tenant_create(
            slug=slug,
            domain=domain or _derived_domain(manifest, slug),
            name=name or manifest.get("tenant", {}).get("name") or slug,
            actor=actor,
        )
        with tenant_context(tenant):
            # A tenant restored in place keeps its audit log as it is: the archive's events are the start of
            # that same chain, and what was done since (the restore included) stays on record. A new tenant
            # gets the archive's log.
            kept = frozenset({AuditEvent._meta.db_table}) if existing else frozenset()
            rows = _fill(slug, tables, manifest, members, kept=kept)
            audit_record(
                actor=actor,
                action="backup.restored",
                object_type=AUDIT_TYPE,
                object_name=f"{source_slug} at {manifest.get('created_at')}",
                changes={"from_tenant": source_slug, "tables": len(tables), "rows": rows, "replaced": bool(existing)},
            )
            dispatch_on_commit(REPUBLISH_TASK)
    connection.set_schema_to_public()
    return RestoreReport(slug, source_slug, len(tables), rows)
