"""With the platform's allowlist off, a tenant's order whose CA directory or DNS nameserver is on loopback fails
in the worker with a clear, permanent reason, and nothing on loopback is ever connected to."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import JobStatus
from apps.certificates.services import certificate_request
from tests.conftest import TENANT_A, TENANT_B
from tests.e2e.issuance import unique, wait_for_job
from tests.egress import Listener, http_reply
from tests.factories import TEST_ACTOR

pytestmark = [pytest.mark.worker]


def order(tenant, *, directory: str, nameserver: str):
    with tenant_context(tenant):
        ca = ca_account_create(actor=TEST_ACTOR, name=unique("ca-"), directory=directory, email="admin@certmate.test")
        dns = dns_account_create(
            actor=TEST_ACTOR,
            name=unique("dns-"),
            provider="rfc2136",
            credentials={"nameserver": nameserver, "tsig_key": "k", "tsig_secret": "c2VjcmV0"},
            propagation_seconds=1,
        )
        return certificate_request(
            identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        ).pk


def test_a_directory_resolving_to_loopback_is_refused_in_the_worker(live_db, strict_worker):
    # Saved while loopback was allowed (this process has the tests' allowlist); the worker's has none, and
    # its certbot run meets the rule at the run's proxy.
    alpha = Tenant.objects.get(schema_name=TENANT_A["slug"])
    with Listener(http_reply(body=b"{}")) as listener:
        job = wait_for_job(
            alpha, order(alpha, directory=listener.url("localhost", "https", "/dir"), nameserver="8.8.8.8")
        )
        assert listener.accepted == 0
    assert job.status == JobStatus.FAILED, job.error
    assert "localhost: 127.0.0.1 is a loopback address" in job.error and "CERTMATE_EGRESS_ALLOW" in job.error
    assert "retrying" not in job.error


def test_a_nameserver_saved_while_loopback_was_allowed_is_refused_at_run_time(live_db, strict_worker):
    beta = Tenant.objects.get(schema_name=TENANT_B["slug"])
    job = wait_for_job(beta, order(beta, directory="https://acme.example.com/dir", nameserver="127.0.0.1"))
    assert job.status == JobStatus.FAILED, job.error
    assert "nameserver is refused: 127.0.0.1 is a loopback address" in job.error
