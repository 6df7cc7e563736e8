"""The bulk revocation job as a worker runs it (no test transaction around it): the task sent when the
request commits revokes every matching version and signs one CRL, however many it revokes."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.certificates.models import RevocationList
from apps.certificates.pki.bulk_revocation import bulk_revoke_submit
from apps.certificates.pki.crl import crl_current
from tests.factories import TEST_ACTOR
from tests.pki.revocation_support import issue


def test_the_task_runs_when_the_request_commits(fresh_tenant, monkeypatch, settings, tmp_path):
    """As a worker runs it (no test transaction): 30 certificates, one CRL."""
    from apps.certificates.pki.services import ca_hierarchy_create
    from certmate.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # the job runs as the submit commits
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    with tenant_context(fresh_tenant()):
        _, authority = ca_hierarchy_create(name="bulk", common_name="Bulk CA", key_type="ec256", actor=TEST_ACTOR)
        for n in range(30):
            issue(f"fleet-{n}", ca="bulk", common_name="fleet")
        bulk = bulk_revoke_submit(authority=authority, selector={"subject": "fleet"}, reason="cessationofoperation",
                                  actor=TEST_ACTOR)  # fmt: skip
        bulk.refresh_from_db()
        assert (bulk.status, bulk.revoked) == ("succeeded", 30)
        assert RevocationList.objects.filter(authority=authority).count() == 1
        assert crl_current(authority).entries == 30


def test_the_command_waits_for_the_job_and_prints_each_result(fresh_tenant, monkeypatch, settings, tmp_path):
    import io

    from django.core.management import call_command

    from apps.certificates.pki.services import ca_hierarchy_create
    from certmate.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    tenant = fresh_tenant()
    with tenant_context(tenant):
        ca_hierarchy_create(name="cmd", common_name="Cmd CA", key_type="ec256", actor=TEST_ACTOR)
        versions = [issue(f"kiosk-{n}", ca="cmd", common_name="kiosk") for n in range(3)]
    out = io.StringIO()
    call_command("pki", "revoke-bulk", "--tenant", tenant.schema_name, "--ca", "cmd", "--subject", "kiosk",
                 "--reason", "affiliationchanged", "--wait", "--timeout", "60", stdout=out)  # fmt: skip
    printed = out.getvalue()
    for version in versions:
        assert f"(serial {version.serial}): revoked" in printed
    assert "succeeded: 3 revoked, 0 failed" in printed
