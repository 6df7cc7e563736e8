"""The batch job as a worker runs it (no test transaction around it): the task sent when the batch
commits issues every row, setting the tenant's search path once rather than before every statement, and
reading the tenant's settings once."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate
from apps.certificates.pki.batching import batch_submit
from tests.factories import TEST_ACTOR


def test_the_job_sets_the_search_path_once_not_per_statement(fresh_tenant, monkeypatch, settings, tmp_path):
    """Outside a test transaction, as a worker runs it: the rows all issued, with a handful of
    ``SET search_path`` where django-tenants would send one before every statement (~17 a row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.certificates.pki.services import ca_hierarchy_create
    from certmate.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # the job runs as the submit commits
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    tenant = fresh_tenant()
    with tenant_context(tenant):
        _, authority = ca_hierarchy_create(name="pinned", common_name="Pinned CA", key_type="ec256", actor=TEST_ACTOR)
        rows = [{"common_name": f"device-{n}"} for n in range(30)]
        with CaptureQueriesContext(connection) as queries:
            batch, _ = batch_submit(authority=authority, rows=rows, idempotency_key="pinned", actor=TEST_ACTOR)
        batch.refresh_from_db()
        assert (batch.status, batch.succeeded) == ("succeeded", 30)
        assert Certificate.objects.filter(current_version__isnull=False).count() == 30
        sets = [query for query in queries.captured_queries if query["sql"].startswith("SET search_path")]
        assert len(sets) < 30, len(sets)
        # the tenant's settings are read once for the job, not twice per certificate
        settings_reads = [query for query in queries.captured_queries if '"accounts_tenantsettings"' in query["sql"]]
        assert len(settings_reads) < 5, len(settings_reads)
