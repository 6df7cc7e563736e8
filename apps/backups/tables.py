"""What a tenant's schema holds, read from PostgreSQL's catalogue: its tables and their columns, which
columns are secrets (a model's EncryptedTextField), and which migrations made it.

Every table of the schema goes into a backup, whatever app made it, so nothing is left behind when an app
adds one; but ``django_migrations`` (the state, recorded in the manifest instead) and ``django_session``
(sign-ins, which a restore ends anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import connection

from certmate.fields import encrypted_fields

NOT_BACKED_UP = frozenset({"django_migrations", "django_session"})


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    secret_columns: tuple[str, ...]
    key_columns: tuple[str, ...]  # the primary key, the order rows are written in
    identity_columns: tuple[str, ...]


def quoted(schema: str, table: str) -> str:
    return f"{connection.ops.quote_name(schema)}.{connection.ops.quote_name(table)}"


def _secret_columns() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for model in apps.get_models(include_auto_created=True):
        columns = tuple(field.column for field in encrypted_fields(model))
        if columns and not model._meta.proxy:
            found[model._meta.db_table] = columns
    return found


def schema_tables(schema: str) -> list[Table]:
    """The schema's tables that a backup holds, by name."""
    secrets = _secret_columns()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname,
                      array_agg(a.attname::text ORDER BY a.attnum),
                      array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attidentity <> ''),
                      (SELECT array_agg(k.attname::text ORDER BY array_position(i.indkey, k.attnum))
                         FROM pg_index i JOIN pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = ANY(i.indkey)
                        WHERE i.indrelid = c.oid AND i.indisprimary)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              WHERE n.nspname = %s AND c.relkind = 'r'
              GROUP BY c.oid, c.relname ORDER BY c.relname""",
            [schema],
        )
        rows = cursor.fetchall()
    return [
        Table(name, tuple(columns), secrets.get(name, ()), tuple(keys or ()), tuple(identities or ()))
        for name, columns, identities, keys in rows
        if name not in NOT_BACKED_UP
    ]


def applied_migrations(schema: str) -> dict[str, list[str]]:
    """{app label: [migration names]} as recorded in the schema."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {quoted(schema, 'django_migrations')} ORDER BY app, name")  # noqa: S608
        state: dict[str, list[str]] = {}
        for app, name in cursor.fetchall():
            state.setdefault(app, []).append(name)
    return state


def migration_differences(archived: dict[str, list[str]], here: dict[str, list[str]]) -> list[str]:
    """Readable lines for every app whose migrations differ (empty: the same state)."""
    lines = []
    for app in sorted(set(archived) | set(here)):
        extra = sorted(set(archived.get(app, ())) - set(here.get(app, ())))
        missing = sorted(set(here.get(app, ())) - set(archived.get(app, ())))
        if extra:
            lines.append(f"{app}: the archive has {', '.join(extra[:3])} that this installation lacks")
        if missing:
            lines.append(f"{app}: this installation has {', '.join(missing[:3])} that the archive lacks")
    return lines
