"""Webhooks against a real HTTP receiver on loopback: signed, versioned JSON; retried on 5xx, not on 4xx;
redirects not followed; refused destinations never reached; remote bodies never kept."""

from __future__ import annotations

from django.utils import timezone

from apps.certificates.models import EventKind
from apps.notifications.kinds import DeliveryStatus
from apps.notifications.models import Delivery
from apps.notifications.services import delivery_send
from certmate.audit.models import AuditEvent
from tests.factories import certificate_make
from tests.notifications.helpers import deliveries, happened, hooked, told, webhook
from tests.notifications.servers import Reply


def _due_again(delivery: Delivery) -> Delivery:
    """Its retry's time has come: send it as the retry task would."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    return delivery_send(delivery_id=delivery.pk)


def test_an_event_reaches_the_webhook_signed_with_the_documented_payload(tenant_a, http_receiver, eager):
    with tenant_a:
        certificate, channel, secret = hooked(eager, "hook.alpha.test", http_receiver.url("/hook"))
        told(eager, certificate, EventKind.RENEWED)
        (delivery,) = deliveries(channel)
    (request,) = http_receiver.requests
    assert request.signature_valid(secret)
    assert not request.signature_valid(secret + "x")
    body = request.json()
    version = certificate.current_version
    assert body["version"] == 1
    assert body["id"] == request.header("X-Certmate-Delivery") == str(delivery.delivery_id)
    assert body["event"] == request.header("X-Certmate-Event") == "renewed"
    assert body["tenant"] == "alpha"
    assert body["certificate"] == {
        "id": certificate.pk,
        "identifier": "hook.alpha.test",
        "kind": "server",
        "version": version.number,
        "serial": version.serial,
        "not_after": version.not_after.isoformat(),
        "link": f"https://alpha.test/certificates/{certificate.pk}/",
    }
    assert "hook.alpha.test" in body["message"]["title"]
    assert f"https://alpha.test/certificates/{certificate.pk}/" in body["message"]["text"]
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.response_code == 200


def test_a_503_is_retried_with_the_same_delivery_id_and_then_delivered(tenant_a, http_receiver, eager):
    http_receiver.script(503)
    with tenant_a:
        certificate, channel, secret = hooked(eager, "retry.alpha.test", http_receiver.url())
        told(eager, certificate)
        (delivery,) = deliveries(channel)
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 503)
        assert delivery.next_attempt_at > timezone.now()
        assert "503 Service Unavailable" in delivery.error
        with eager():
            delivery = _due_again(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 2, 200)
    first, second = http_receiver.requests
    assert first.header("X-Certmate-Delivery") == second.header("X-Certmate-Delivery") == str(delivery.delivery_id)
    assert second.signature_valid(secret)


def test_a_4xx_fails_at_once_without_retry(tenant_a, http_receiver, eager):
    http_receiver.default = Reply(status=410, body=b"gone")
    with tenant_a:
        certificate, channel, _ = hooked(eager, "gone.alpha.test", http_receiver.url())
        told(eager, certificate)
        (delivery,) = deliveries(channel)
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 410)
        assert delivery_send(delivery_id=delivery.pk).attempts == 1  # nothing left to send
    assert len(http_receiver.requests) == 1


def test_a_redirect_is_not_followed(tenant_a, http_receiver, eager):
    http_receiver.redirect_to(http_receiver.url("/elsewhere"))
    with tenant_a:
        certificate, channel, _ = hooked(eager, "moved.alpha.test", http_receiver.url("/hook"))
        told(eager, certificate)
        (delivery,) = deliveries(channel)
    assert http_receiver.paths() == ["/hook"]
    assert (delivery.status, delivery.response_code) == ("failed", 302)
    assert "redirects are not followed" in delivery.error


def test_a_refused_address_is_never_reached_and_says_why(tenant_a, http_receiver, eager, settings):
    with tenant_a:
        # Loopback was allowed when the channel was made; the operator narrowed the rule since.
        certificate, channel, _ = hooked(eager, "refused.alpha.test", http_receiver.url("/hook/tok-3f9a7c2e"))
        settings.CERTMATE_EGRESS_ALLOW = []
        told(eager, certificate)
        (delivery,) = deliveries(channel)
    assert http_receiver.requests == []
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "egress rule" in delivery.error and "loopback" in delivery.error
    assert "tok-3f9a7c2e" not in delivery.error


def test_a_remote_body_is_never_kept(tenant_a, http_receiver, eager):
    http_receiver.default = Reply(status=500, body=b"internal detail: password=hunter2-remote")
    with tenant_a:
        certificate, channel, _ = hooked(eager, "body.alpha.test", http_receiver.url())
        told(eager, certificate)
        (delivery,) = deliveries(channel)
        channel.refresh_from_db()
    assert "hunter2" not in delivery.error and "hunter2" not in channel.last_error
    assert delivery.error == "the webhook answered 500 Internal Server Error"


def test_a_channel_failing_again_and_again_is_flagged_and_a_success_clears_it(tenant_a, http_receiver, eager, settings):
    settings.CERTMATE_NOTIFY_FLAG_AFTER = 3
    http_receiver.default = Reply(status=400)
    with tenant_a:
        certificate, channel, _ = hooked(eager, "flag.alpha.test", http_receiver.url())
        for _ in range(2):
            with eager():
                happened(certificate)
        channel.refresh_from_db()
        assert channel.flagged_at is None and channel.consecutive_failures == 2
        with eager():
            happened(certificate)
        channel.refresh_from_db()
        assert channel.flagged_at is not None and "400 Bad Request" in channel.last_error
        assert AuditEvent.objects.filter(action="notification_channel.flagged", object_id=str(channel.pk)).count() == 1
        http_receiver.default = Reply(status=204)
        with eager():
            happened(certificate)
        channel.refresh_from_db()
        statuses = [delivery.status for delivery in deliveries(channel)]
    assert channel.flagged_at is None and channel.consecutive_failures == 0
    assert statuses == ["failed", "failed", "failed", "delivered"]


def test_filters_choose_the_certificates_a_channel_hears_about(tenant_a, http_receiver, eager):
    with tenant_a:
        with eager():
            shop, api = certificate_make("www.shop.alpha.test"), certificate_make("api.alpha.test")
        with eager():
            webhook(http_receiver.url("/shop"), name="shop", name_patterns=["*.shop.alpha.test"])
            webhook(http_receiver.url("/clients"), name="clients", certificate_kinds=["client"])
            webhook(http_receiver.url("/le"), name="le", issuers=["le"])
            happened(shop)
            happened(api)
    assert sorted(http_receiver.paths()) == ["/le", "/le", "/shop"]


def test_the_private_key_download_is_told_only_to_channels_that_opted_in(tenant_a, http_receiver, eager):
    with tenant_a:
        with eager():
            certificate = certificate_make("key.alpha.test")
        with eager():
            webhook(http_receiver.url("/default"), name="default")
            webhook(http_receiver.url("/keys"), name="keys", events=["key_downloaded"])
            happened(certificate, EventKind.KEY_DOWNLOADED, format="pem", who="ops@alpha.test")
    (request,) = http_receiver.requests
    assert request.path == "/keys"
    assert request.json()["facts"]["who"] == "ops@alpha.test"
    assert "ops@alpha.test downloaded the private key" in request.json()["message"]["text"]


def test_a_receiver_too_slow_to_answer_is_tried_again_later(tenant_a, http_receiver, eager, settings):
    settings.CERTMATE_NOTIFY_TIMEOUT_SECONDS = 1
    http_receiver.script(Reply(status=200, delay=3))
    with tenant_a:
        certificate, channel, _ = hooked(eager, "slow.alpha.test", http_receiver.url())
        told(eager, certificate)
        (delivery,) = deliveries(channel)
        assert (delivery.status, delivery.response_code) == ("pending", None)
        assert "did not answer in time" in delivery.error
        with eager():
            delivery = _due_again(delivery)
    assert delivery.status == "delivered" and delivery.attempts == 2
