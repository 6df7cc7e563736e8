"""The sweep through a real worker: exactly the due certificates, exactly once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, JobStatus
from apps.certificates.services.renewals import renewal_sweep_all
from tests.concurrency import run_together
from tests.e2e.renewals import HALF_LIFE, issue, issued, sweep_jobs_done, versions

pytestmark = pytest.mark.tools


def test_the_sweep_renews_exactly_the_due_certificates_once(fresh_tenant, worker, pebble, bind9):
    alpha, beta = fresh_tenant(), fresh_tenant()
    due, off = {"renew_before_days": HALF_LIFE}, {"renew_before_days": HALF_LIFE, "auto_renew": False}
    specs = {
        alpha: {"due": due, "not_due": {}, "off": off},
        beta: {"due": due, "not_due": {"renew_before_days": 30}},
    }
    jobs = {
        t: {name: issue(t, pebble, bind9, **options) for name, options in spec.items()} for t, spec in specs.items()
    }
    certs = {t: issued(t, tenant_jobs) for t, tenant_jobs in jobs.items()}
    # Judge due-ness just after the due ones' mid-life: years ahead, so the sweep is told the time.
    as_of = max(certs[t]["due"].renew_at for t in certs) + timedelta(seconds=1)
    assert all(certs[t]["not_due"].renew_at > as_of for t in certs)
    before = {(t, n): versions(t, c) for t in certs for n, c in certs[t].items()}

    slugs = [alpha.schema_name, beta.schema_name]
    summaries = {s.tenant: s.sweep for s in renewal_sweep_all(slugs=slugs, now=as_of, jitter_seconds=0)}
    for tenant in certs:
        done = sweep_jobs_done(tenant, summaries[tenant.schema_name])
        assert [job.status for job in done] == [JobStatus.SUCCEEDED]
    for (tenant, name), serials in before.items():
        after = versions(tenant, certs[tenant][name])
        if name == "due":
            assert len(after) == 2 and after[0] == serials[0] and after[1] != serials[0], "one new serial"
            with tenant_context(tenant):
                current = Certificate.objects.get(pk=certs[tenant][name].pk).current_version
            assert current.number == 2 and current.serial == after[1]
        else:
            assert after == serials, f"{tenant}:{name} must not be renewed"
    assert [(summaries[slug].due, summaries[slug].queued) for slug in slugs] == [(1, 1), (1, 1)]


def test_two_sweeps_at_once_still_renew_each_due_certificate_once(fresh_tenant, worker, pebble, bind9):
    alpha = fresh_tenant()
    jobs = {f"due{i}": issue(alpha, pebble, bind9, renew_before_days=HALF_LIFE) for i in range(3)}
    certs = issued(alpha, jobs)
    as_of = max(c.renew_at for c in certs.values()) + timedelta(seconds=1)

    def sweep():
        (summary,) = renewal_sweep_all(slugs=[alpha.schema_name], now=as_of, jitter_seconds=0)
        return summary.sweep

    sweeps = run_together(sweep, 2)
    for sweep_record in sweeps:
        sweep_jobs_done(alpha, sweep_record)
    for cert in certs.values():
        assert len(versions(alpha, cert)) == 2, f"{cert.identifier}: one new version, not two"
    assert sum(s.queued for s in sweeps) == 3 and sum(s.due for s in sweeps) == 6


@pytest.mark.worker
def test_beats_sweep_task_fans_out_to_every_tenant_through_the_worker(fresh_tenant, worker):
    """What beat sends (from the public schema) reaches each tenant's schema as its own sweep task."""
    from apps.certificates.models import RenewalSweep
    from apps.certificates.tasks import renewal_sweep_all_task

    first, second = fresh_tenant(), fresh_tenant()
    renewal_sweep_all_task.delay()
    deadline = time.monotonic() + 60
    for tenant in (first, second):
        with tenant_context(tenant):
            while not RenewalSweep.objects.exists():
                assert time.monotonic() < deadline, worker.log_text()[-2000:]
                time.sleep(0.2)
