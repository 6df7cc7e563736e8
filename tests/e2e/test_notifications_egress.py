"""A channel pointed at an address the platform does not reach for tenants (loopback, with
CERTMATE_EGRESS_ALLOW empty as in production) fails with a clear reason, and nothing reaches it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.notifications.kinds import DeliveryStatus
from apps.notifications.models import NotificationChannel
from apps.notifications.services import channel_create, channel_test
from tests.e2e.issuance import unique
from tests.e2e.notifications import delivery_done, until, webhook_channel
from tests.factories import TEST_ACTOR, certificate_make
from tests.notifications.servers import HttpReceiver

pytestmark = [pytest.mark.worker]


def test_a_webhook_to_loopback_fails_in_the_worker_with_its_reason_and_sends_nothing(fresh_tenant, strict_worker):
    alpha = fresh_tenant()
    with HttpReceiver() as receiver:
        # Saved while loopback was allowed (this process has the tests' allowlist); the worker's has none.
        channel, _ = webhook_channel(alpha, receiver)
        with tenant_context(alpha):
            certificate_make(f"{unique()}.example.com")  # its issued event goes through the worker
        row = until(lambda: delivery_done(alpha, channel), "the refused delivery never finished", worker=strict_worker)
        assert receiver.requests == [], "nothing reaches a refused address"
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1, "refused for good, not retried"
    assert_refused_clearly(row.error)
    assert row.channel.last_error == row.error


def test_send_test_to_loopback_fails_with_its_reason_and_sends_nothing(tenant_a, settings):
    with HttpReceiver() as receiver:
        channel, _ = webhook_channel(tenant_a, receiver)
        settings.CERTMATE_EGRESS_ALLOW = []
        with tenant_context(tenant_a):
            delivery = channel_test(actor=TEST_ACTOR, channel=channel)
        assert receiver.requests == []
    assert delivery.status == DeliveryStatus.FAILED
    assert_refused_clearly(delivery.error)


def assert_refused_clearly(error: str) -> None:
    assert "refused by the platform's egress rule" in error, error
    assert "127.0.0.1 is a loopback address" in error and "CERTMATE_EGRESS_ALLOW" in error, error


def test_a_webhook_to_loopback_is_refused_when_the_channel_is_made(tenant_a, settings):
    settings.CERTMATE_EGRESS_ALLOW = []
    with HttpReceiver() as receiver, tenant_context(tenant_a):
        with pytest.raises(ValidationError) as refused:
            channel_create(actor=TEST_ACTOR, name="loopback hook", kind="webhook", target=receiver.url())
        assert not NotificationChannel.objects.filter(name="loopback hook").exists()
        assert receiver.requests == []
    assert "loopback address" in str(refused.value) and "CERTMATE_EGRESS_ALLOW" in str(refused.value)
