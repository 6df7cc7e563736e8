"""Chat and push services through Apprise, locked down: allow-listed services only, no local files, no
remote configuration, under the egress rule, redirects refused. The allowed services tested here
(ntfy, json) are pointed at a real HTTP receiver on loopback."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.notifications.models import NotificationChannel
from apps.notifications.services import channel_create, channel_test
from tests.factories import TEST_ACTOR
from tests.notifications.helpers import apprise
from tests.notifications.servers import Reply


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("file:///etc/passwd", "file:// is not an allowed service"),
        ("apprise://config.example.com/token", "apprise:// is not an allowed service"),
        ("xml://example.com/x", "xml:// is not an allowed service"),
        ("mailto://user:pass@example.com", "mailto:// is not an allowed service"),
        ("https://hooks.slack.com/services/T/B/C", "https:// is not an allowed service"),
        ("json://10.0.0.5/hook", "private address"),
        ("ntfys://169.254.169.254/topic", "link-local"),
        ("ntfy://ntfy.example.com/topic?attach=file:///etc/passwd", "'attach' is not allowed"),
        ("json://example.com/x?redirect=yes", "'redirect' is not allowed"),
        # Apprise also splits parameters at ";" and unquotes their names: a file read must not slip through.
        ("workflows://example.com:443/abc123/def456?x=1;template=file:///etc/hostname", "'template' is not allowed"),
        ("discord://1234/abcdefgh?%74emplate=file:///etc/hostname", "'template' is not allowed"),
        ("ntfy://ntfy.example.com/topic?%2Battach=file:///etc/passwd", "'attach' is not allowed"),
        ("discord://1234/abcdefgh/#x?template=file:///etc/hostname", "'template' is not allowed"),
        ("workflows://example.com:443/abc123/def456#?template=file:///etc/hostname", "'template' is not allowed"),
        ("discord://", "Apprise cannot read"),
        ("ntfy://exa mple.com/topic", "not a valid Apprise URL"),
    ],
)
def test_disallowed_services_and_destinations_are_refused_when_the_channel_is_made(tenant_a, url, said):
    with tenant_a, pytest.raises(ValidationError) as refused:
        channel_create(actor=TEST_ACTOR, name="chat", kind="apprise", target=url)
    assert said in refused.value.message_dict["target"][0]


def test_an_allowed_service_reaches_its_server(tenant_a, http_receiver):
    with tenant_a:
        channel = apprise(f"ntfy://127.0.0.1:{http_receiver.port}/certs-alpha")
        assert channel.target_hint == "ntfy://127.0.0.1/…"
        delivery = channel_test(actor=TEST_ACTOR, channel=channel)
    assert delivery.status == "delivered", delivery.error
    (request,) = http_receiver.requests
    assert request.method == "POST" and request.json()["topic"] == "certs-alpha"
    assert "can reach it" in request.json()["message"]


def test_the_generic_json_service_is_sent_the_title_and_text(tenant_a, http_receiver):
    with tenant_a:
        delivery = channel_test(actor=TEST_ACTOR, channel=apprise(f"json://127.0.0.1:{http_receiver.port}/notify"))
    assert delivery.status == "delivered"
    (request,) = http_receiver.requests
    assert request.json()["title"] == "certmate test notification"


def test_a_redirect_is_not_followed(tenant_a, http_receiver):
    http_receiver.redirect_to(http_receiver.url("/elsewhere"), status=307)
    with tenant_a:
        delivery = channel_test(actor=TEST_ACTOR, channel=apprise(f"json://127.0.0.1:{http_receiver.port}/notify"))
    assert http_receiver.paths() == ["/notify"]
    assert (delivery.status, delivery.response_code) == ("failed", 307)


def test_a_server_error_is_worth_a_retry_and_its_body_is_not_kept(tenant_a, http_receiver, eager):
    http_receiver.default = Reply(status=503, body=b'{"error": "token=abcdef123456 leaked"}')
    with tenant_a:
        delivery = channel_test(actor=TEST_ACTOR, channel=apprise(f"ntfy://127.0.0.1:{http_receiver.port}/t0pic"))
    assert delivery.status == "failed" and delivery.response_code == 503  # a test is tried once
    assert "abcdef123456" not in delivery.error and "503" in delivery.error


def test_a_refused_address_is_never_reached(tenant_a, http_receiver, settings):
    with tenant_a:
        channel = apprise(f"json://127.0.0.1:{http_receiver.port}/notify")
        settings.CERTMATE_EGRESS_ALLOW = []
        delivery = channel_test(actor=TEST_ACTOR, channel=channel)
    assert http_receiver.requests == []
    assert delivery.status == "failed" and "egress rule" in delivery.error


def test_a_stored_url_with_a_refused_parameter_is_not_sent(tenant_a, http_receiver):
    """A target stored before the rule tightened (or written around the service) still reads no file."""
    with tenant_a:
        channel = apprise(f"json://127.0.0.1:{http_receiver.port}/notify")
        NotificationChannel.objects.filter(pk=channel.pk).update(
            target=f"json://127.0.0.1:{http_receiver.port}/notify?x=1;template=file:///etc/hostname"
        )
        channel.refresh_from_db()
        delivery = channel_test(actor=TEST_ACTOR, channel=channel)
    assert http_receiver.requests == []
    assert delivery.status == "failed" and "no longer accepted" in delivery.error
