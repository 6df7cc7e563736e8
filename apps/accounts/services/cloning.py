"""Copying the template schema into a new tenant schema in one round trip.

django-tenants ships a generic clone (pg-clone-schema) that rebuilds DDL from the catalogue on every
call; it slows down as the catalogue grows (seconds per tenant past a hundred tenants here). The
template's structure only changes when it is migrated, so certmate reads it once per process into a
script of plain SQL — tables, their data, constraints and indexes under their original names — and
replays that script for each new schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

_TARGET_MARK = "\x00schema\x00"  # stands for the target schema in the cached script


class TemplateNotClonable(Exception):
    """The template holds an object the cloner does not copy; cloning would give a partial schema."""


@dataclass(frozen=True)
class SchemaScript:
    template: str
    sql: str

    def for_schema(self, schema: str) -> str:
        return self.sql.replace(_TARGET_MARK, connection.ops.quote_name(schema))


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def schema_script_build(template: str) -> SchemaScript:
    """Read the template schema's structure and data layout into a replayable script."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        saved_search_path = cursor.fetchone()[0]
        # With only pg_catalog on the path, every definition below comes out schema-qualified.
        cursor.execute("SET search_path TO pg_catalog")
        try:
            statements = _script_statements(cursor, template)
        finally:
            cursor.execute(f"SET search_path TO {saved_search_path}")
    return SchemaScript(template=template, sql=";\n".join(statements) + ";")


def _script_statements(cursor, template: str) -> list[str]:
    cursor.execute(
        """SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind NOT IN ('r', 'i', 'S')""",
        [template],
    )
    unsupported = cursor.fetchall()
    if unsupported:
        raise TemplateNotClonable(f"schema {template} holds objects the cloner does not copy: {unsupported}")
    cursor.execute(
        """SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname""",
        [template],
    )
    tables = cursor.fetchall()
    cursor.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind = 'S'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i')""",
        [template],
    )
    free_sequences = [row[0] for row in cursor.fetchall()]
    if free_sequences:
        raise TemplateNotClonable(f"schema {template} has sequences outside identity columns: {free_sequences}")

    src = _q(template)
    target = _TARGET_MARK
    statements = [f"CREATE SCHEMA {target}"]
    for _oid, name in tables:
        # Indexes (and the PRIMARY KEY / UNIQUE constraints behind them) are added after the data,
        # under their original names, which later migrations refer to.
        statements.append(f"CREATE TABLE {target}.{_q(name)} (LIKE {src}.{_q(name)} INCLUDING ALL EXCLUDING INDEXES)")
    for oid, name in tables:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM " + f"{src}.{_q(name)})")  # noqa: S608 - quoted catalogue names
        if cursor.fetchone()[0]:
            copy = f"INSERT INTO {target}.{_q(name)} OVERRIDING SYSTEM VALUE SELECT * FROM {src}.{_q(name)}"  # noqa: S608
            statements.append(copy)
            statements += _identity_resets(cursor, oid, name)
    qualified_template = f"{template}."
    cursor.execute(
        """SELECT con.conrelid::regclass::text, con.conname, con.contype, pg_get_constraintdef(con.oid)
           FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
           WHERE n.nspname = %s AND con.contype IN ('p', 'u', 'x', 'f')
           ORDER BY CASE con.contype WHEN 'f' THEN 1 ELSE 0 END, con.conname""",
        [template],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
           ORDER BY c.relname""",
        [template],
    )
    indexes = [row[0] for row in cursor.fetchall()]
    for table, conname, _kind, definition in constraints:
        table_name = table.split(".", 1)[1]
        definition = definition.replace(f"REFERENCES {qualified_template}", f"REFERENCES {target}.")
        statements.append(f"ALTER TABLE {target}.{table_name} ADD CONSTRAINT {_q(conname)} {definition}")
    for definition in indexes:
        statements.append(definition.replace(f" ON {qualified_template}", f" ON {target}.", 1))
    return statements


def _identity_resets(cursor, oid: int, table: str) -> list[str]:
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attidentity <> '' AND NOT attisdropped", [oid]
    )
    resets = []
    for (column,) in cursor.fetchall():
        qualified = f"{_TARGET_MARK}.{_q(table)}"
        sequence = f"pg_get_serial_sequence({_literal(qualified)}, {_literal(column)})"
        resets.append(f"SELECT setval({sequence}, (SELECT coalesce(max({_q(column)}), 0) + 1 FROM {qualified}), false)")  # noqa: S608
    return resets


def schema_clone(script: SchemaScript, schema: str) -> None:
    """Create ``schema`` as a copy of the template, structure and rows (inside the caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(script.for_schema(schema))
