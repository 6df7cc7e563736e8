from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import get_public_schema_name

from apps.accounts.models import Tenant

TENANT_A = {"slug": "alpha", "domain": "alpha.test", "admin_email": "admin@alpha.test"}
TENANT_B = {"slug": "beta", "domain": "beta.test", "admin_email": "admin@beta.test"}
PASSWORD = "correct-horse-battery-staple"
PUBLIC_HOST = "localhost"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Two committed tenants (and the public tenant) shared by the whole session.

    Tests run in transactions inside them; tests that need committed rows (a worker process, pg_dump)
    clean up after themselves instead of flushing, which would truncate the tenant table.
    """
    from apps.accounts.services.tenants import tenant_create, tenant_ensure_public

    with django_db_blocker.unblock():
        tenant_ensure_public(domains=[PUBLIC_HOST, "testserver"])
        for spec in (TENANT_A, TENANT_B):
            tenant_create(**spec, name=spec["slug"].title(), admin_password=PASSWORD)


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant.objects.get(schema_name=TENANT_A["slug"])


@pytest.fixture
def tenant_b(db) -> Tenant:
    return Tenant.objects.get(schema_name=TENANT_B["slug"])


@pytest.fixture(autouse=True)
def _back_to_public():
    """Every test starts and ends in the public schema, whatever the previous one left active."""
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture
def public_schema_name() -> str:
    return get_public_schema_name()
