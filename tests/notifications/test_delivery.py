"""Deliveries as the worker and the sweeps see them: an event tells once however often it is delivered,
a lost or half-sent delivery is found again, one held by another run is not sent twice, attempts are
bounded, and the events that feed notices are recorded where they happen."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.certificates.models import CertificateEvent, EventKind
from apps.certificates.services.downloads import DownloadRequest, certificate_download
from apps.certificates.services.events import event_record, events_sweep_all
from apps.notifications.consumers import notifications_event_handle
from apps.notifications.kinds import DeliveryStatus
from apps.notifications.models import Delivery, Notice
from apps.notifications.services import deliveries_retry_due, delivery_send
from tests.factories import TEST_ACTOR, certificate_make
from tests.notifications.helpers import deliveries, happened, hooked, told, webhook
from tests.notifications.servers import Reply


def test_an_event_handled_twice_tells_once(tenant_a, http_receiver, eager):
    with tenant_a:
        certificate, channel, _ = hooked(eager, "twice.alpha.test", http_receiver.url())
        told(eager, certificate)
        event = CertificateEvent.objects.filter(kind=EventKind.RENEWED).latest("id")
        with eager():
            notifications_event_handle(event)
        assert Notice.objects.filter(key=f"event:{event.pk}").count() == 1
        assert len(deliveries(channel)) == 1
    assert len(http_receiver.requests) == 1


def test_a_lost_delivery_is_sent_by_the_sweep_and_a_held_one_is_not(tenant_a, http_receiver, eager):
    with tenant_a:
        certificate, channel, _ = hooked(eager, "lost.alpha.test", http_receiver.url())
        happened(certificate)  # not in an eager block: its delivery task is never sent
        notifications_event_handle(CertificateEvent.objects.filter(kind=EventKind.RENEWED).latest("id"))
        (delivery,) = deliveries(channel)
        assert delivery.status == DeliveryStatus.PENDING and http_receiver.requests == []
        # Another worker holds it: the sweep leaves it alone until the lease lapses.
        Delivery.objects.filter(pk=delivery.pk).update(
            lease_until=timezone.now() + timedelta(minutes=5), next_attempt_at=timezone.now() - timedelta(minutes=5)
        )
        with eager():
            assert deliveries_retry_due() == 0
        assert delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.PENDING
        Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        with eager():
            assert deliveries_retry_due() == 1
        delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and len(http_receiver.requests) == 1


def test_the_minute_sweep_sends_lost_deliveries(tenant_a, http_receiver, eager):
    with tenant_a:
        certificate, channel, _ = hooked(eager, "minute.alpha.test", http_receiver.url())
        happened(certificate)  # not in an eager block: nothing runs on commit
        event = CertificateEvent.objects.filter(kind=EventKind.RENEWED).latest("id")
        notifications_event_handle(event)
        Delivery.objects.filter(channel=channel).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
        with eager():
            events_sweep_all(slugs=["alpha"])
        (delivery,) = deliveries(channel)
    assert delivery.status == DeliveryStatus.DELIVERED


def test_attempts_are_bounded(tenant_a, http_receiver, eager, settings):
    settings.CERTMATE_NOTIFY_MAX_ATTEMPTS = 3
    http_receiver.default = Reply(status=502)
    with tenant_a:
        certificate, channel, _ = hooked(eager, "bounded.alpha.test", http_receiver.url())
        told(eager, certificate)
        (delivery,) = deliveries(channel)
        for _ in range(4):
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            with eager():
                delivery = delivery_send(delivery_id=delivery.pk)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "gave up after 3 attempts" in delivery.error
    assert len(http_receiver.requests) == 3


def test_a_disabled_channel_skips_what_was_waiting(tenant_a, http_receiver, eager):
    http_receiver.script(503)
    with tenant_a:
        certificate, channel, _ = hooked(eager, "disabled.alpha.test", http_receiver.url())
        told(eager, certificate)
        channel.enabled = False
        channel.save()
        (delivery,) = deliveries(channel)
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        delivery = delivery_send(delivery_id=delivery.pk)
    assert (delivery.status, delivery.error) == ("skipped", "the channel is disabled")


def test_a_private_key_download_is_an_event_and_a_failure_names_its_next_retry(tenant_a, eager):
    with tenant_a:
        with eager():
            certificate = certificate_make("download.alpha.test")
        with eager():
            certificate_download(version=certificate.current_version, request=DownloadRequest(), actor=TEST_ACTOR)
            certificate_download(
                version=certificate.current_version, request=DownloadRequest(include_private=False), actor=TEST_ACTOR
            )
        (event,) = CertificateEvent.objects.filter(certificate=certificate, kind=EventKind.KEY_DOWNLOADED)
    assert event.detail == {"format": "zip", "who": "tests"}
    assert event.version_id == certificate.current_version.pk


def test_events_recorded_elsewhere_reach_channels(tenant_a, http_receiver, eager):
    with tenant_a:
        with eager():
            certificate = certificate_make("revoked.alpha.test")
        webhook(http_receiver.url())
        with eager():
            event_record(kind=EventKind.REVOKED, certificate=certificate, version=certificate.current_version,
                         detail={"reason": "keyCompromise"})  # fmt: skip
            event_record(kind=EventKind.DELETED, certificate=certificate)  # nobody is told of deletions
    (request,) = http_receiver.requests
    assert request.json()["event"] == "revoked" and "keyCompromise" in request.json()["message"]["text"]
