"""The expiry scan with real certificate versions: each (version, threshold) warns once, several thresholds
crossed at once warn once with the smallest, an expired version says so, a renewal stops the warnings of
the version it replaced, private CAs warn too, and the weekly digest goes out once a week."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.certificates.models import CertificateEvent, EventKind, TenantSettings
from apps.certificates.pki.models import CertificateAuthority
from apps.certificates.pki.services import ca_hierarchy_create
from apps.notifications.models import Delivery, ExpiryWarning, Notice
from apps.notifications.services import ca_expiry_scan, digest_send, expiry_scan
from apps.notifications.services.digest import digest_key
from tests.factories import TEST_ACTOR, certificate_make, version_add
from tests.notifications.helpers import deliveries, email, webhook


def _expiring_in(identifier: str, days: float, eager):
    """A certificate whose current version expires in ``days`` days (issued 60 days before that)."""
    with eager():
        certificate = certificate_make(identifier, versions=0)
        version_add(certificate, days=60, not_before=timezone.now() + timedelta(days=days - 60))
    return certificate


def _events(certificate, kind: str) -> list[CertificateEvent]:
    return list(CertificateEvent.objects.filter(certificate=certificate, kind=kind).order_by("id"))


def test_a_threshold_warns_once_per_version(tenant_a, http_receiver, eager):
    with tenant_a:
        certificate = _expiring_in("soon.alpha.test", 20, eager)
        channel, _ = webhook(http_receiver.url())
        for _ in range(3):
            with eager():
                expiry_scan()
        (event,) = _events(certificate, EventKind.EXPIRING)
        assert event.detail["threshold"] == 30 and event.detail["days_left"] == 20
        assert len(deliveries(channel)) == 1
        # Crossing the next threshold warns again, once.
        for _ in range(2):
            with eager():
                expiry_scan(now=timezone.now() + timedelta(days=7))
        assert [e.detail["threshold"] for e in _events(certificate, EventKind.EXPIRING)] == [30, 14]
    assert [r.json()["facts"]["threshold"] for r in http_receiver.requests] == [30, 14]
    assert "expires in 20 days" in http_receiver.requests[0].json()["message"]["title"]


def test_thresholds_crossed_together_warn_once_with_the_smallest(tenant_a, eager):
    with tenant_a:
        certificate = _expiring_in("late.alpha.test", 5, eager)
        with eager():
            expiry_scan()
            expiry_scan(now=timezone.now() + timedelta(hours=1))
        (event,) = _events(certificate, EventKind.EXPIRING)
        marked = set(
            ExpiryWarning.objects.filter(version=certificate.current_version).values_list("threshold_days", flat=True)
        )
    assert event.detail["threshold"] == 7
    assert marked == {7, 14, 30}


def test_an_expired_version_is_told_once(tenant_a, smtp_server, eager):
    with tenant_a:
        certificate = _expiring_in("gone.alpha.test", -2, eager)
        email(["ops@alpha.test"])
        with eager():
            expiry_scan()
            expiry_scan()
        assert len(_events(certificate, EventKind.EXPIRED)) == 1
        assert _events(certificate, EventKind.EXPIRING) == []
    (mail,) = smtp_server.mails
    assert mail.subject == "[certmate] Certificate expired: gone.alpha.test"
    assert "Renew it now" in mail.text


def test_the_tenants_thresholds_are_used(tenant_a, eager):
    with tenant_a:
        settings_row = TenantSettings.load()
        settings_row.expiry_warning_days = [45]
        settings_row.save()
        certificate = _expiring_in("custom.alpha.test", 40, eager)
        with eager():
            expiry_scan()
        assert [e.detail["threshold"] for e in _events(certificate, EventKind.EXPIRING)] == [45]


def test_a_renewal_stops_the_warnings_of_the_version_it_replaced(
    tenant_a, http_receiver, eager, django_capture_on_commit_callbacks
):
    with tenant_a:
        certificate = _expiring_in("renewed.alpha.test", 3, eager)
        channel, _ = webhook(http_receiver.url())
        with django_capture_on_commit_callbacks(execute=False) as pending:
            expiry_scan()  # the warning is recorded; its delivery has not gone out yet
        with eager():
            version_add(certificate)  # renewed meanwhile
        with eager():
            for callback in pending:
                callback()
        statuses = {d.notice.kind: (d.status, d.error) for d in deliveries(channel)}
        with eager():
            expiry_scan()  # the new version is far from expiry
        assert _events(certificate, EventKind.EXPIRING)[-1].version_id != certificate.current_version.pk
        assert len(_events(certificate, EventKind.EXPIRING)) == 1
    assert statuses["expiring"] == ("skipped", "the certificate was renewed since")
    assert statuses["renewed"][0] == "delivered"
    assert [r.json()["event"] for r in http_receiver.requests] == ["renewed"]


def test_a_private_ca_close_to_expiry_is_told_once_per_threshold(tenant_a, http_receiver, eager):
    with tenant_a:
        _, authority = ca_hierarchy_create(name="alpha", common_name="Alpha CA", key_type="ec256", actor=TEST_ACTOR)
        CertificateAuthority.objects.filter(pk=authority.pk).update(not_after=timezone.now() + timedelta(days=10))
        channel, _ = webhook(http_receiver.url())
        with eager():
            assert ca_expiry_scan() == 1
            assert ca_expiry_scan() == 0
        (delivery,) = deliveries(channel)
    (request,) = http_receiver.requests
    body = request.json()
    assert body["event"] == "ca_expiring" and body["certificate"] is None
    assert body["facts"]["threshold"] == 14 and authority.name in body["message"]["title"]
    assert delivery.notice.key == f"ca_expiring:{authority.pk}:{authority.serial}:14"


def test_the_weekly_digest_goes_to_subscribed_mailboxes_once_a_week(tenant_a, smtp_server, eager):
    with tenant_a:
        _expiring_in("digest.alpha.test", 9, eager)
        with eager():
            assert digest_send() is None  # nobody subscribed
            email(["ops@alpha.test"], name="weekly", events=["digest"])
            notice = digest_send()
            assert digest_send() is None
        assert notice.key == digest_key(timezone.now())
        assert Notice.objects.filter(kind="digest").count() == 1
    (mail,) = smtp_server.mails
    assert mail.subject == "[certmate] Weekly certificate digest"
    assert "Expiring within 30 days (1):" in mail.text and "digest.alpha.test" in mail.text


def test_two_tenants_never_see_each_others_warnings(tenant_a, tenant_b, http_receiver, eager):
    with tenant_a:
        _expiring_in("a.alpha.test", 2, eager)
        webhook(http_receiver.url("/alpha"))
    with tenant_b:
        webhook(http_receiver.url("/beta"))
        with eager():
            expiry_scan()
        assert not Notice.objects.exists() and not Delivery.objects.exists()
    with tenant_a:
        with eager():
            expiry_scan()
        assert Notice.objects.filter(kind="expiring", identifier="a.alpha.test").count() == 1
    assert http_receiver.paths() == ["/alpha"]
    assert http_receiver.requests[0].json()["tenant"] == "alpha"
