"""The template schema new tenants are cloned from, kept migrated."""

from __future__ import annotations

import zlib

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context, schema_exists

from apps.accounts.services.cloning import SchemaScript, schema_script_build

# The template's clone script, built once it is known to be current. Migrations do not change under
# a running process, so this is read once per process.
_scripts: dict[str, SchemaScript] = {}


def _tenant_app_labels() -> set[str]:
    return {config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS}


def template_schema_pending_migrations(schema: str) -> list[str]:
    """Tenant-app migrations not yet applied to ``schema`` (which must exist)."""
    labels = _tenant_app_labels()
    with schema_context(schema):
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan if migration.app_label in labels]


def template_schema_script() -> SchemaScript:
    """The script that copies the (current) template into a new schema."""
    template_schema_ensure_current()
    return _scripts[settings.TENANT_BASE_SCHEMA]


def template_schema_ensure_current(*, verbosity: int = 0) -> bool:
    """Create or migrate the template schema when it is missing or behind. True when it changed.

    Checked once per process. Concurrent callers are serialised by an advisory lock so two processes
    never migrate the template together.
    """
    schema = settings.TENANT_BASE_SCHEMA
    if schema in _scripts:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(schema)])
    try:
        changed = False
        if not schema_exists(schema) or template_schema_pending_migrations(schema):
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=verbosity)
            changed = True
        connection.set_schema_to_public()
        _scripts[schema] = schema_script_build(schema)
        return changed
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(schema)])


def _lock_key(schema: str) -> int:
    return zlib.crc32(f"certmate-template:{schema}".encode())
