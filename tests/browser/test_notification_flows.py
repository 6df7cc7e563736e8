"""The notifications area in a real browser: a flagged channel says why, "Send test" shows the outcome
in place (htmx, against a real HTTP receiver), a webhook's secret is shown once with its copy button,
the delivery log lists the test; axe finds nothing serious on any of these pages, light or dark."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from apps.notifications.models import NotificationChannel
from apps.notifications.services import channel_delete
from tests.factories import TEST_ACTOR
from tests.notifications.conftest import http_receiver  # noqa: F401 - a real HTTP receiver on loopback
from tests.notifications.support import email_channel, flag, webhook_channel


@pytest.fixture
def channels(portal, http_receiver):  # noqa: F811
    with tenant_context(portal.tenant):
        hook, _ = webhook_channel(http_receiver.url("/browser"), name="browser-hook")
        mail = email_channel(name="browser-ops")
        flag(mail, "550 mailbox unavailable at mx.browser.test")
    yield hook, mail
    with tenant_context(portal.tenant):
        for channel in NotificationChannel.objects.filter(name__startswith="browser-"):
            channel_delete(channel=channel, actor=TEST_ACTOR)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_channels_test_in_place_and_the_log(portal, channels, http_receiver, scheme):  # noqa: F811
    hook, mail = channels
    page = portal.page("admin", color_scheme=scheme)
    portal.visit(page, "/notifications/")
    flagged = page.locator(f"#channel-{mail.pk}")
    assert "flagged" in flagged.inner_text() and "550 mailbox unavailable" in flagged.inner_text()
    page.locator(f"#channel-{hook.pk}").get_by_role("button", name="Send test").click()
    result = page.locator(f"#test-result-{hook.pk}")
    result.get_by_text(re.compile("delivered")).wait_for()
    assert "browser-hook: the test notice was delivered (HTTP 200)." in result.inner_text()
    assert page.url.endswith("/notifications/")  # in place: no reload, no redirect
    assert http_receiver.paths() == ["/browser"]
    portal.check(page)
    portal.screenshot(page, "notifications-tested")
    portal.visit(page, f"/notifications/deliveries/?channel={hook.pk}")
    assert "browser-hook" in page.locator("#deliveries").inner_text()
    portal.visit(page, "/notifications/")
    page.locator(f"#channel-{hook.pk}").get_by_role("button", name="Rotate secret").click()
    page.wait_for_url("**/rotate-secret/")
    secret = page.locator("#new-secret").input_value()
    assert len(secret) >= 32 and page.get_by_role("button", name="Copy to clipboard").is_visible()
    portal.check(page)
    portal.visit(page, "/notifications/")
    assert secret not in page.content()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_viewer_reads_channels_and_the_log_without_write_controls(portal, channels, scheme):
    hook, mail = channels
    page = portal.page("viewer", color_scheme=scheme)
    for path in ("/notifications/", "/notifications/deliveries/", f"/notifications/deliveries/?channel={hook.pk}"):
        portal.visit(page, path)
        assert portal.write_controls(page) == [], path
    portal.visit(page, "/notifications/")
    assert "550 mailbox unavailable" in page.locator(f"#channel-{mail.pk}").inner_text()
