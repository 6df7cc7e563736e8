"""Rows, users and cache entries of one tenant are invisible to the other."""

from django.core.cache import cache
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from tests.conftest import PASSWORD, TENANT_A, TENANT_B
from tests.testapp.models import Vault


def test_rows_created_in_one_tenant_are_invisible_in_the_other(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        Vault.objects.create(name="only-in-a", secret="a-secret")
        assert Vault.objects.filter(name="only-in-a").count() == 1
    with tenant_context(tenant_b):
        assert not Vault.objects.filter(name="only-in-a").exists()
        Vault.objects.create(name="only-in-b", secret="b-secret")
    with tenant_context(tenant_a):
        assert list(Vault.objects.values_list("name", flat=True)) == ["only-in-a"]


def test_each_tenant_has_its_own_users(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        assert list(User.objects.values_list("email", flat=True)) == [TENANT_A["admin_email"]]
    with tenant_context(tenant_b):
        assert list(User.objects.values_list("email", flat=True)) == [TENANT_B["admin_email"]]
        assert User.objects.get(email=TENANT_B["admin_email"]).check_password(PASSWORD)


def test_public_schema_holds_no_tenant_users(db):
    assert not User.objects.filter(email__in=[TENANT_A["admin_email"], TENANT_B["admin_email"]]).exists()


def test_cache_keys_carry_the_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        cache.set("certificate-count", 7)
    with tenant_context(tenant_b):
        assert cache.get("certificate-count") is None
        cache.set("certificate-count", 3)
    with tenant_context(tenant_a):
        assert cache.get("certificate-count") == 7


def test_tenant_and_domain_tables_exist_only_in_public(tenant_a):
    assert "accounts_tenant" in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name IN ('accounts_tenant', 'accounts_domain')"
        )
        schemas = {row[0] for row in cursor.fetchall()}
    assert schemas == {"public"}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'accounts_user'",
            [tenant_a.schema_name],
        )
        assert cursor.fetchone()[0] == 1


def test_issuing_accounts_and_settings_live_in_tenant_schemas_only(tenant_a):
    """CA accounts, DNS accounts and settings moved to the certificates app keeping their tables: those
    tables are in every tenant's schema (and the template's) and never in public."""
    tables = ("accounts_caaccount", "accounts_dnsaccount", "accounts_tenantsettings")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name = ANY(%s)", [list(tables)]
        )
        found = cursor.fetchall()
    assert {table for schema, table in found if schema == tenant_a.schema_name} == set(tables)
    assert not [table for schema, table in found if schema == "public"]
