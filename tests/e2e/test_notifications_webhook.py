"""Webhooks through a real worker to real HTTP receivers on loopback: signed with the secret shown once,
retried after a 503, and never crossing tenants."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import JobStatus
from apps.notifications.kinds import DeliveryStatus
from apps.notifications.models import Delivery
from tests.e2e.issuance import unique, wait_for_job
from tests.e2e.notifications import DELIVERY_HEADER, delivery_done, until, webhook_channel
from tests.e2e.renewals import issue
from tests.factories import certificate_make
from tests.notifications.servers import HttpReceiver

pytestmark = [pytest.mark.worker, pytest.mark.tools]


def test_a_webhook_is_signed_and_retried_after_a_503_until_it_is_delivered(fresh_tenant, notify_worker):
    alpha = fresh_tenant()
    with HttpReceiver() as receiver:
        channel, secret = webhook_channel(alpha, receiver)
        receiver.script(503)
        with tenant_context(alpha):
            cert = certificate_make(f"{unique()}.example.com")  # its issued event goes through the worker
        row = until(lambda: delivery_done(alpha, channel), "no delivery finished", worker=notify_worker)
        assert row.status == DeliveryStatus.DELIVERED, row.error
        first, second = receiver.requests
        assert all(request.signature_valid(secret) for request in receiver.requests), "signed with the secret"
        assert not second.signature_valid(secret + "x"), "and only that secret"
        stamps = [int(request.header("X-Certmate-Timestamp")) for request in receiver.requests]
        assert all(abs(stamp - time.time()) < 300 for stamp in stamps), "current: a receiver refuses replays by it"
        ids = {request.header(DELIVERY_HEADER) for request in receiver.requests}
        assert ids == {str(row.delivery_id)}, "a retry is the same delivery"
        assert first.json() == second.json()
        assert (second.json()["event"], second.json()["certificate"]["identifier"]) == ("issued", cert.identifier)
        assert (row.attempts, row.response_code) == (2, 200)


def test_two_tenants_never_receive_each_others_notices(fresh_tenant, notify_worker, pebble, bind9):
    tenants = [fresh_tenant(), fresh_tenant()]
    with HttpReceiver() as alpha_hook, HttpReceiver() as beta_hook:
        receivers = dict(zip(tenants, (alpha_hook, beta_hook), strict=True))
        secrets = {tenant: webhook_channel(tenant, receivers[tenant])[1] for tenant in tenants}
        jobs = {tenant: issue(tenant, pebble, bind9) for tenant in tenants}
        names = {}
        for tenant, job in jobs.items():
            done = wait_for_job(tenant, job.pk)
            assert done.status == JobStatus.SUCCEEDED, done.error
            names[tenant] = done.certificate.identifier
        for tenant, receiver in receivers.items():
            until(
                lambda t=tenant: settled(t), f"{tenant.schema_name}'s deliveries did not finish", worker=notify_worker
            )
            other = next(t for t in tenants if t != tenant)
            bodies = [request.body.decode() for request in receiver.requests]
            assert bodies and all(names[tenant] in body for body in bodies), f"{tenant.schema_name} hears of its own"
            assert not any(names[other] in body or other.schema_name in body for body in bodies)
            assert {request.json()["tenant"] for request in receiver.requests} == {tenant.schema_name}
            assert all(request.signature_valid(secrets[tenant]) for request in receiver.requests)
            with tenant_context(tenant):
                sent = set(Delivery.objects.values_list("delivery_id", flat=True))
            assert {request.header(DELIVERY_HEADER) for request in receiver.requests} == {str(d) for d in sent}


def settled(tenant) -> bool:
    """Every delivery of the tenant's sent (and at least one made)."""
    with tenant_context(tenant):
        deliveries = Delivery.objects.all()
        return deliveries.exists() and not deliveries.filter(status=DeliveryStatus.PENDING).exists()
