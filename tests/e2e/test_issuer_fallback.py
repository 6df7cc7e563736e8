"""Issuer fallback against real CAs: two Pebbles (the first one down, or refusing through a stub in front
of it that answers as Let's Encrypt does when it limits the rate, fails inside or refuses a name) and
BIND9. Jobs run in-process."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.order_window import ca_account_order_wait
from apps.certificates.models import CaAccount, Certificate, CertificateEvent, EventKind, FallbackOrder, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from apps.certificates.services.jobs import job_run
from apps.certificates.services.revocation import certificate_revoke
from certmate.audit.models import AuditEvent
from tests.e2e.acme_stub import AcmeStub, problem
from tests.e2e.issuance import accounts_for, unique
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.tools

ORDERED = "POST /order-plz"  # what Pebble logs for each new order
RATE_LIMITED = (
    "Error creating new order :: too many certificates (5) already issued for this exact set of identifiers in the "
    "last 168h0m0s, retry after 2026-12-08 16:01:42 UTC: see https://letsencrypt.org/docs/rate-limits/"
)
FINALIZE_FAILED = "Error finalizing order :: Unable to meet CA SCT embedding requirements"
REJECTED = (
    'Error creating new order :: Cannot issue for "certmate.test": The ACME server refuses to issue for this name'
)


def ca_account(tenant, server, **options) -> CaAccount:
    with tenant_context(tenant):
        return ca_account_create(
            actor=TEST_ACTOR,
            name=unique("ca-"),
            directory=server.directory_url,
            email="admin@certmate.test",
            trust_bundle=server.ca_bundle.read_text(),
            **options,
        )


def order(tenant, ca, dns, fallbacks=None):
    """A new certificate's first order, run here; answers the job as it ended and the certificate."""
    with tenant_context(tenant):
        job = certificate_request(
            identifier=f"{unique()}.certmate.test",
            ca_account=ca,
            dns_account=dns,
            fallback_ca_accounts=fallbacks,
            actor=TEST_ACTOR,
        )
        done = certificate_issue(job_id=job.pk)
        return done, Certificate.objects.select_related("current_version").get(pk=job.certificate_id)


def refusing(pebble, path: str, answer) -> AcmeStub:
    """Pebble behind a stub answering POSTs under ``path`` with ``answer`` (no ARI of its own)."""
    stub = AcmeStub(upstream=pebble, ari=False)
    stub.answers[path] = answer
    return stub


def down_ca(pebble_factory, tenant, dns, *, registered: bool) -> CaAccount:
    """A CA account whose Pebble is stopped: never used before, or registered (and ordered from) first."""
    first = pebble_factory()
    ca = ca_account(tenant, first)
    if registered:
        done, _ = order(tenant, ca, dns)
        assert done.status == JobStatus.SUCCEEDED, done.error
    first.stop()
    return ca


@pytest.mark.parametrize("registered", [False, True], ids=["never-registered", "registered"])
def test_an_order_falls_back_to_the_next_ca_when_the_first_is_down(tenant_a, pebble_factory, bind9, registered):
    second = pebble_factory()
    fallback, dns = accounts_for(tenant_a, second, bind9)
    down = down_ca(pebble_factory, tenant_a, dns, registered=registered)
    with override_settings(CERTMATE_RETRY_ATTEMPTS=1):
        done, certificate = order(tenant_a, down, dns, fallbacks=[fallback])
    assert done.status == JobStatus.SUCCEEDED, f"{done.error}\n{done.output}"
    version = certificate.current_version
    assert (version.ca_account_id, version.ca_account_name) == (fallback.pk, fallback.name)
    assert second.certificate_status(version.serial)["Status"] == "Valid"  # the second CA issued it
    # The job says which CA was tried with what result, and why the first one was passed over.
    assert f"1. CA account {down.name!r} ({down.directory_url}): failed, the CA could not be reached" in done.output
    assert f"2. CA account {fallback.name!r} ({fallback.directory_url}): issued" in done.output
    assert "Tunnel connection failed: 502 127.0.0.1: could not connect" in done.output
    with tenant_context(tenant_a):
        [issued] = AuditEvent.objects.filter(action="certificate.issued", object_id=str(certificate.pk))
        assert issued.changes == {"version": [None, 1], "ca_account": fallback.name}
        event = CertificateEvent.objects.get(certificate=certificate, kind=EventKind.ISSUED)
        assert event.detail["ca_account"] == fallback.name
        # The order sent to the second CA counts against its account's order window, as its own would.
        assert FallbackOrder.objects.filter(ca_account=fallback).count() == 1
        with override_settings(CERTMATE_ORDERS_PER_ACCOUNT=1), transaction.atomic():
            assert ca_account_order_wait(ca_account_id=fallback.pk, now=timezone.now()) is not None
        # Revoked where it was issued: at the second CA, with its account, though the certificate's is the first.
        revocation = certificate_revoke(certificate=certificate, reason="superseded", actor=TEST_ACTOR)
        assert job_run(job_id=revocation.pk).status == JobStatus.SUCCEEDED
    assert second.certificate_status(version.serial)["Status"] == "Revoked"


def test_a_dns_failure_at_the_first_ca_does_not_fall_back(tenant_a, pebble, pebble_factory, bind9):
    second = pebble_factory()
    ca, dns = accounts_for(tenant_a, pebble, bind9, tsig_secret="d3JvbmctdHNpZy1zZWNyZXQtdmFsdWU=")
    fallback = ca_account(tenant_a, second)
    done, certificate = order(tenant_a, ca, dns, fallbacks=[fallback])
    assert done.status == JobStatus.FAILED and done.attempts == 1
    assert "the DNS server rejected the signature of TSIG key" in done.error
    assert f"CA account {ca.name!r} ({ca.directory_url}): failed, as it would at any CA" in done.output
    assert ORDERED not in second.log_text(), "the second CA saw no order"
    with tenant_context(tenant_a):
        assert CaAccount.objects.get(pk=fallback.pk).registered_at is None
        assert certificate.current_version is None and certificate.status == "failed"


def test_the_tenants_default_chain_serves_certificates_without_their_own(tenant_a, pebble, pebble_factory, bind9):
    _, dns = accounts_for(tenant_a, pebble, bind9)
    down = down_ca(pebble_factory, tenant_a, dns, registered=False)
    fallback = ca_account(tenant_a, pebble, fallback_position=1)
    with override_settings(CERTMATE_RETRY_ATTEMPTS=1):
        done, certificate = order(tenant_a, down, dns)
    assert done.status == JobStatus.SUCCEEDED, f"{done.error}\n{done.output}"
    assert certificate.current_version.ca_account_name == fallback.name
    with tenant_context(tenant_a):
        assert not certificate.fallbacks.exists(), "the tenant's chain, not one of its own"


@pytest.mark.parametrize(
    ("path", "status", "kind", "detail", "result"),
    [
        ("/order-plz", 429, "rateLimited", RATE_LIMITED, "the CA's rate limit"),
        # After the DNS records were written and checked, and the CA validated them: at finalization.
        ("/finalize-order/", 500, "serverInternal", FINALIZE_FAILED, "the CA's server error"),
    ],
    ids=["rate-limited", "server-error"],
)
def test_a_ca_that_limits_or_fails_inside_falls_back_and_says_so(
    tenant_a, pebble, pebble_factory, bind9, path, status, kind, detail, result
):
    second = pebble_factory()
    fallback, dns = accounts_for(tenant_a, second, bind9)
    with refusing(pebble, path, problem(status, kind, detail)) as faulty:
        ca = ca_account(tenant_a, faulty)
        done, certificate = order(tenant_a, ca, dns, fallbacks=[fallback])
    assert done.status == JobStatus.SUCCEEDED, f"{done.error}\n{done.output}"
    assert len(faulty.answered) == 1 and certificate.current_version.ca_account_name == fallback.name
    assert f"CA account {ca.name!r} ({ca.directory_url}): failed, {result}: {detail}" in done.output
    # What certbot does not print, from its debug log: the CA's status and problem type.
    assert f"The ACME server answered HTTP {status} (urn:ietf:params:acme:error:{kind})." in done.output


def test_when_every_ca_fails_the_job_names_each_and_retries_only_if_the_last_may_pass(
    tenant_a, pebble, pebble_factory, bind9
):
    _, dns = accounts_for(tenant_a, pebble, bind9)
    down = down_ca(pebble_factory, tenant_a, dns, registered=False)
    name = f"{unique()}.certmate.test"
    with refusing(pebble, "/order-plz", problem(400, "rejectedIdentifier", REJECTED)) as stub:
        policy = ca_account(tenant_a, stub)
        # Unreachable, then a policy refusal (permanent): failed for good, each CA account's reason in one line.
        done, certificate = order(tenant_a, down, dns, fallbacks=[policy])
        assert done.status == JobStatus.FAILED and done.attempts == 1, done.error
        assert f"CA account {down.name!r} failed, the CA could not be reached: " in done.error
        assert f"CA account {policy.name!r} failed, the CA's policy refused it: Error creating new" in done.error
        assert done.output.startswith(f"Issuer fallback for {certificate.identifier}: 2 of 2 CA accounts tried")
        # A policy refusal, then unreachable (transient): the job is tried again later.
        with tenant_context(tenant_a):
            job = certificate_request(
                identifier=name, ca_account=policy, dns_account=dns, fallback_ca_accounts=[down], actor=TEST_ACTOR
            )
            again = certificate_issue(job_id=job.pk)
    assert again.status == JobStatus.QUEUED and again.error.startswith("attempt 1 failed, retrying in "), again.error
    assert len(stub.answered) == 2
