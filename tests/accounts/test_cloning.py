"""A cloned tenant schema is the same as one built by running every migration."""

from django.contrib.auth.models import Group
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.accounts.services.cloning import qualified_names
from apps.accounts.services.tenants import tenant_create
from certmate.actors import Actor


def catalogue(schema: str) -> dict:
    """Everything about a schema's structure, with its own name taken out."""
    with qualified_names() as cursor:
        cursor.execute(
            # Position among live columns: a clone has no dropped columns, so raw attnums may differ.
            """SELECT c.relname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname,
                      format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                      pg_get_expr(d.adbin, d.adrelid)
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
               WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped""",
            [schema],
        )
        columns = sorted(cursor.fetchall())
        cursor.execute(
            """SELECT con.conrelid::regclass::text, con.conname, con.contype, pg_get_constraintdef(con.oid)
               FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace WHERE n.nspname = %s""",
            [schema],
        )
        constraints = sorted(cursor.fetchall())
        cursor.execute(
            """SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'i'""",
            [schema],
        )
        indexes = sorted(cursor.fetchall())
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608
        migrations = sorted(cursor.fetchall())
    parts = {"columns": columns, "constraints": constraints, "indexes": indexes, "migrations": migrations}
    return {name: {repr(row).replace(f"{schema}.", "SCHEMA.") for row in rows} for name, rows in parts.items()} | {
        "tables": {row[0] for row in columns}
    }


def role_permissions(tenant) -> dict:
    with tenant_context(tenant):
        return {
            g.name: sorted(g.permissions.values_list("content_type__app_label", "codename"))
            for g in Group.objects.all()
        }


def test_cloned_schema_matches_a_migrated_one(db):
    cloned = tenant_create(slug="by_clone", domain="by-clone.test", actor=Actor.command())
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False, TENANT_BASE_SCHEMA=None):
        migrated = tenant_create(slug="by_migrations", domain="by-migrations.test", actor=Actor.command())
    clone_catalogue, migrated_catalogue = catalogue("by_clone"), catalogue("by_migrations")
    assert "accounts_user" in clone_catalogue["tables"]
    assert "testapp_vault" in clone_catalogue["tables"]
    for part in ("columns", "constraints", "indexes", "migrations"):
        only_clone = clone_catalogue[part] - migrated_catalogue[part]
        only_migrated = migrated_catalogue[part] - clone_catalogue[part]
        assert not only_clone and not only_migrated, f"{part}: clone has {only_clone}, migrated has {only_migrated}"
    assert role_permissions(cloned) == role_permissions(migrated)
    assert set(role_permissions(cloned)) == {"admin", "operator", "viewer"}


def test_cloned_identity_sequences_continue_after_the_copied_rows(db):
    tenant = tenant_create(slug="seq_check", domain="seq-check.test", actor=Actor.command())
    with tenant_context(tenant):
        highest = max(Group.objects.values_list("id", flat=True))
        assert Group.objects.create(name="auditors").id > highest


def test_cloned_schemas_are_independent(db):
    first = tenant_create(slug="indep_one", domain="indep-one.test", actor=Actor.command())
    second = tenant_create(slug="indep_two", domain="indep-two.test", actor=Actor.command())
    with tenant_context(first):
        Group.objects.create(name="only-in-one")
    with tenant_context(second):
        assert not Group.objects.filter(name="only-in-one").exists()


def test_a_template_with_objects_the_cloner_cannot_copy_is_refused(db):
    import pytest
    from django.conf import settings

    from apps.accounts.services.cloning import TemplateNotClonable, schema_script_build

    template = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE FUNCTION "{template}".audit_stamp() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$')
    with pytest.raises(TemplateNotClonable, match="function audit_stamp"):
        schema_script_build(template)
