"""E-mail channels through Django's SMTP backend to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from apps.certificates.models import EventKind
from apps.notifications.services import channel_test
from tests.factories import TEST_ACTOR, certificate_make
from tests.notifications.helpers import deliveries, email, happened


def test_a_renewal_failure_is_mailed_with_its_reason_next_retry_and_link(tenant_a, smtp_server, eager):
    with tenant_a:
        with eager():
            certificate = certificate_make("mail.alpha.test")
        with eager():
            channel = email(["ops@alpha.test", "oncall@alpha.test"])
            happened(
                certificate,
                EventKind.RENEWAL_FAILED,
                reason="DNS-01 challenge failed: NXDOMAIN",
                next_retry="2026-12-02T10:00:00+00:00",
            )
        (delivery,) = deliveries(channel)
    (mail,) = smtp_server.mails
    assert sorted(mail.rcpt_tos) == ["oncall@alpha.test", "ops@alpha.test"]
    assert mail.subject == "[certmate] Renewal failed: mail.alpha.test"
    assert "DNS-01 challenge failed: NXDOMAIN" in mail.text
    assert "tries again at 2026-12-02T10:00:00+00:00" in mail.text
    assert f"https://alpha.test/certificates/{certificate.pk}/" in mail.text
    assert mail.message["X-Certmate-Delivery"] == str(delivery.delivery_id)
    assert (delivery.status, delivery.response_code) == ("delivered", 250)


def test_recipients_refused_by_the_server_fail_without_retry(tenant_a, smtp_server):
    smtp_server.refuse = True
    with tenant_a:
        delivery = channel_test(actor=TEST_ACTOR, channel=email(["nobody@alpha.test"]))
    assert (delivery.status, delivery.response_code) == ("failed", 550)
    assert "refused every recipient" in delivery.error
    assert smtp_server.mails == []


def test_send_test_reaches_the_mailbox_and_is_logged(tenant_a, smtp_server):
    with tenant_a:
        channel = email(["ops@alpha.test"])
        delivery = channel_test(actor=TEST_ACTOR, channel=channel)
        (logged,) = deliveries(channel)
    assert logged.pk == delivery.pk and delivery.status == "delivered"
    assert smtp_server.to("ops@alpha.test")[0].subject == "[certmate] certmate test notification"


def test_an_unreachable_mail_server_is_a_failed_test_with_a_clear_reason(tenant_a, smtp_server, settings):
    settings.EMAIL_PORT = 9  # nothing listens there
    with tenant_a:
        delivery = channel_test(actor=TEST_ACTOR, channel=email(["ops@alpha.test"]))
    assert delivery.status == "failed" and "mail server could not be reached" in delivery.error
