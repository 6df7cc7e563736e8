"""Copying the template schema into a new tenant schema in one round trip.

django-tenants ships a generic clone (pg-clone-schema) that rebuilds DDL from the catalogue on every
call; it slows down as the catalogue grows (seconds per tenant past a hundred tenants here). The
template's structure only changes when it is migrated, so certmate reads it once per process into a
script of plain SQL — tables, their data, constraints and indexes under their original names — and
replays that script for each new schema.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

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


@contextmanager
def qualified_names():
    """A cursor on which the catalogue's functions (pg_get_indexdef and the like) qualify every name
    with its schema: only pg_catalog is on the search path meanwhile, restored afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        saved_search_path = cursor.fetchone()[0]
        cursor.execute("SET search_path TO pg_catalog")
        try:
            yield cursor
        finally:
            cursor.execute(f"SET search_path TO {saved_search_path}")


def schema_script_build(template: str) -> SchemaScript:
    """Read the template schema's structure and data layout into a replayable script."""
    with qualified_names() as cursor:
        statements = _script_statements(cursor, template)
    return SchemaScript(template=template, sql=";\n".join(statements) + ";")


def _script_statements(cursor, template: str) -> list[str]:
    cursor.execute(
        """SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind NOT IN ('r', 'i', 'S')""",
        [template],
    )
    unsupported = cursor.fetchall()
    # Objects LIKE does not copy and this script does not create: refuse rather than clone part-way.
    cursor.execute(
        """SELECT 'trigger ' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid
             WHERE n.nspname = %(s)s AND NOT t.tgisinternal AND p.pronamespace = n.oid
           UNION ALL SELECT 'function ' || p.proname FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(s)s
           UNION ALL SELECT 'type ' || ty.typname FROM pg_type ty JOIN pg_namespace n ON n.oid = ty.typnamespace
             WHERE n.nspname = %(s)s AND ty.typtype IN ('e', 'd', 'r', 'm')
           UNION ALL SELECT 'policy ' || pol.polname FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s""",
        {"s": template},
    )
    unsupported += cursor.fetchall()
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
    # LIKE ... INCLUDING ALL copies columns, defaults, identities, CHECK constraints and indexes (with
    # the PRIMARY KEY / UNIQUE constraints behind them) from their parsed form, so they are exactly
    # the template's; only foreign keys and rows are left to copy.
    creates = [f"CREATE SCHEMA {target}"]
    creates += [f"CREATE TABLE {target}.{_q(name)} (LIKE {src}.{_q(name)} INCLUDING ALL)" for _oid, name in tables]
    statements = creates + _index_renames(cursor, template, creates)
    for oid, name in tables:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM " + f"{src}.{_q(name)})")  # noqa: S608 - quoted catalogue names
        if cursor.fetchone()[0]:
            copy = f"INSERT INTO {target}.{_q(name)} OVERRIDING SYSTEM VALUE SELECT * FROM {src}.{_q(name)}"  # noqa: S608
            statements.append(copy)
            statements += _identity_resets(cursor, oid, name)
    cursor.execute(
        """SELECT con.conrelid::regclass::text, con.conname, pg_get_constraintdef(con.oid)
           FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
           WHERE n.nspname = %s AND con.contype = 'f' ORDER BY con.conname""",
        [template],
    )
    for table, conname, definition in cursor.fetchall():
        definition = definition.replace(f"REFERENCES {template}.", f"REFERENCES {target}.")
        statements.append(f"ALTER TABLE {target}.{table.split('.', 1)[1]} ADD CONSTRAINT {_q(conname)} {definition}")
    return statements + _triggers(cursor, template)


def _triggers(cursor, template: str) -> list[str]:
    """The template's triggers, on the new schema's tables. Their functions live outside the template
    (the check above refuses others), so the definition only names the template for its table."""
    cursor.execute(
        """SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal
           ORDER BY t.tgname""",
        [template],
    )
    triggers = []
    for (definition,) in cursor.fetchall():
        if f" ON {template}." not in definition:
            raise TemplateNotClonable(f"trigger of {template} not understood: {definition}")
        triggers.append(definition.replace(f" ON {template}.", f" ON {_TARGET_MARK}."))
    return triggers


def _indexes(cursor, schema: str) -> dict[tuple[str, str], list[tuple[str, bool]]]:
    """(table, definition without its name) -> [(index name, backs a constraint)] for a schema."""
    cursor.execute(
        """SELECT t.relname, c.relname, pg_get_indexdef(c.oid),
                  EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = c.oid)
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s ORDER BY c.relname""",
        [schema],
    )
    found: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for table, name, definition, backs_constraint in cursor.fetchall():
        shape = re.sub(r"^(CREATE (?:UNIQUE )?INDEX) \S+ ON \S+", r"\1", definition)
        found.setdefault((table, shape), []).append((name, backs_constraint))
    return found


def _index_renames(cursor, template: str, creates: list[str]) -> list[str]:
    """Statements giving the copied indexes back the template's names, which later migrations use.

    LIKE names the indexes it copies itself, the same way for every new schema; a trial copy into a
    probe schema, rolled back, shows which name each one gets.
    """
    probe = f"certmate_clone_probe_{os.getpid()}"
    with transaction.atomic():
        cursor.execute(";\n".join(statement.replace(_TARGET_MARK, _q(probe)) for statement in creates))
        wanted, copied = _indexes(cursor, template), _indexes(cursor, probe)
        transaction.set_rollback(True)
    # Two steps through temporary names, so a copy never takes a name another index still holds.
    to_temporary, to_final = [], []
    for key, originals in wanted.items():
        copies = copied.get(key, [])
        if len(copies) != len(originals):
            raise TemplateNotClonable(f"index {originals[0][0]} of {template} does not copy one to one")
        for (old, backs_constraint), (new, _) in zip(originals, copies, strict=True):
            if old == new:
                continue
            temporary = f"certmate_tmp_{len(to_temporary)}"
            table = _q(key[0])
            if backs_constraint:
                to_temporary.append(f"ALTER TABLE {_TARGET_MARK}.{table} RENAME CONSTRAINT {_q(new)} TO {temporary}")
                to_final.append(f"ALTER TABLE {_TARGET_MARK}.{table} RENAME CONSTRAINT {temporary} TO {_q(old)}")
            else:
                to_temporary.append(f"ALTER INDEX {_TARGET_MARK}.{_q(new)} RENAME TO {temporary}")
                to_final.append(f"ALTER INDEX {_TARGET_MARK}.{temporary} RENAME TO {_q(old)}")
    return to_temporary + to_final


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
