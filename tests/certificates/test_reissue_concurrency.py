"""Two passes of one bulk reissue at once (a redelivered task beside the first, two workers): each
certificate is ordered once, and each step recorded once. Committed rows, each pass on a connection of
its own."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.certificates.models import Job, JobOperation, ReissueItemStatus
from apps.certificates.services.reissue import bulk_reissue_create
from apps.certificates.services.reissue_advance import bulk_reissue_advance
from certmate.audit.models import AuditEvent
from tests.certificates.reissue_support import estate
from tests.concurrency import run_together
from tests.factories import TEST_ACTOR
from tests.worker import purge_broker


def test_two_passes_at_once_order_each_certificate_once(fresh_tenant):
    tenant = fresh_tenant()
    try:
        with tenant_context(tenant):
            made = estate()
            bulk = bulk_reissue_create(selector={"names": "*.alpha.test"}, actor=TEST_ACTOR)

        def one_pass():
            with tenant_context(tenant):
                return bulk_reissue_advance(bulk_id=bulk.pk)

        for _ in range(3):
            run_together(one_pass, 2)
        with tenant_context(tenant):
            renewals = Job.objects.filter(operation=JobOperation.RENEW, forced=True)
            assert sorted(renewals.values_list("certificate_id", flat=True)) == sorted(c.pk for c in made.values())
            assert set(bulk.items.values_list("status", flat=True)) == {ReissueItemStatus.RENEWING}
            steps = AuditEvent.objects.filter(action="bulk_reissue.item_changed")
            assert steps.count() == 3
            assert AuditEvent.objects.filter(action="bulk_reissue.started").count() == 1
            assert AuditEvent.objects.filter(action="certificate.renewal_requested").count() == 3
    finally:
        purge_broker()  # the jobs and passes these passes sent must not reach a later module's worker
