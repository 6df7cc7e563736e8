from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import get_public_schema_name

from apps.accounts.models import Tenant
from certmate.actors import Actor

TENANT_A = {"slug": "alpha", "domain": "alpha.test", "admin_email": "admin@alpha.test"}
TENANT_B = {"slug": "beta", "domain": "beta.test", "admin_email": "admin@beta.test"}
PASSWORD = "correct-horse-battery-staple"
PUBLIC_HOST = "localhost"


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """The test database, with two committed tenants (and the public tenant) for the whole session.

    pytest-django would only create the test database when a selected test asks for ``db``; tests
    that need committed rows (a worker process, pg_dump) do not, and must never reach the
    development database instead, so it is always created here.

    Tests run in transactions inside the tenants; tests that commit rows clean up after themselves
    instead of flushing, which would truncate the tenant table.
    """
    from django.test.utils import setup_databases, teardown_databases

    from apps.accounts.services.tenants import tenant_create, tenant_ensure_public

    with django_db_blocker.unblock():
        db_config = setup_databases(verbosity=request.config.option.verbose, interactive=False, aliases={"default"})
        tenant_ensure_public(domains=[PUBLIC_HOST, "testserver"])
        for spec in (TENANT_A, TENANT_B):
            tenant_create(**spec, name=spec["slug"].title(), admin_password=PASSWORD, actor=Actor.command())
    yield
    with django_db_blocker.unblock():
        teardown_databases(db_config, verbosity=request.config.option.verbose)


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


@pytest.fixture
def live_db(django_db_setup, django_db_blocker):
    """Database access without a wrapping transaction: rows are committed, so other processes (a
    worker, pg_dump) see them. Tests using it pick unique names instead of relying on a rollback."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def fresh_tenant(live_db):
    """Committed tenants of the test's own (``fresh_tenant()`` makes one; ``admin=True`` with
    TENANT_A's admin e-mail and PASSWORD), so a sweep or a worker sees exactly this test's rows."""
    import uuid

    from apps.accounts.services.tenants import tenant_create, tenant_delete

    made = []

    def make(*, admin: bool = False):
        slug = f"r{uuid.uuid4().hex[:10]}"
        login = {"admin_email": f"admin@{slug}.test", "admin_password": PASSWORD} if admin else {}
        made.append(tenant_create(slug=slug, domain=f"{slug}.test", **login, actor=Actor.command()))
        return made[-1]

    yield make
    for tenant in made:
        tenant_delete(slug=tenant.schema_name)


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process (prefork, 4 children) for the module's tests. Per module, so a
    module can also run workers of its own (and kill them) without another one taking its tasks."""
    from tests.worker import Worker, purge_broker

    with django_db_blocker.unblock():
        purge_broker()
        process = Worker(tmp_path_factory.mktemp("worker") / "worker.log").start()
    yield process
    process.stop()
