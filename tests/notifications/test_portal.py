"""The portal's notifications area: everyone reads the channels (flagged ones marked with their last
error) and the delivery log; admins add and change channels through the services, test them (htmx,
the outcome in place), rotate a webhook's secret (shown once), unflag and delete. Tenants apart."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import TenantSettings
from apps.notifications.models import NotificationChannel
from apps.notifications.services import channel_test
from tests.factories import TEST_ACTOR
from tests.notifications.servers import Reply
from tests.notifications.support import audited, email_channel, flag, webhook_channel
from tests.portal.conftest import ROLES, _fresh_cache, portal_user, signed_in  # noqa: F401 - fixtures
from tests.portal.test_pages import parse

TOKEN_URL = "https://hooks.example.com/services/T000/B000/SECRETTOKEN"
RANK = {role: rank for rank, role in enumerate(ROLES)}
SECRET = re.compile(r'id="new-secret"[^>]*value="([^"]+)"')


@pytest.fixture
def channels_a(tenant_a):
    with tenant_context(tenant_a):
        hook, _ = webhook_channel(TOKEN_URL, name="alpha-hook")
        mail = email_channel(name="alpha-ops")
        flag(mail, "550 mailbox unavailable at mx.alpha.test")
    return hook, mail


def pages(hook) -> dict[str, str]:
    return {
        "/notifications/": "viewer",
        "/notifications/deliveries/": "viewer",
        "/notifications/add/": "admin",
        f"/notifications/{hook.pk}/": "admin",
        f"/notifications/{hook.pk}/delete/": "admin",
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_what_it_may(tenant_a, signed_in, channels_a, role):  # noqa: F811
    client = signed_in(tenant_a, role)
    for path, needed in pages(channels_a[0]).items():
        response = client.get(path)
        assert response.status_code == (200 if RANK[role] >= RANK[needed] else 403), (role, path)
        if response.status_code == 200:
            page = parse(response.content.decode())
            assert page.inline_scripts == 0 and page.style_attrs == 0, path
    listing = client.get("/notifications/").content.decode()
    assert ("Send test" in listing) is (role == "admin") and ("Add a channel" in listing) is (role == "admin")
    assert any(link.label == "Notifications" for link in client.get("/").context["nav_links"])


def test_anonymous_visitors_sign_in_first(tenant_a, signed_in, channels_a):  # noqa: F811
    for path in pages(channels_a[0]):
        assert signed_in(tenant_a, None).get(path)["Location"] == f"/login/?next={path}"


def test_the_list_marks_flagged_channels_with_their_last_error_and_never_shows_a_url(tenant_a, signed_in, channels_a):  # noqa: F811
    page = signed_in(tenant_a, "viewer").get("/notifications/").content.decode()
    assert "flagged" in page and "550 mailbox unavailable at mx.alpha.test" in page
    assert "hooks.example.com" in page and "SECRETTOKEN" not in page


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(tenant_a, signed_in):  # noqa: F811
    client = signed_in(tenant_a, "admin")
    form = {"name": "deploys", "kind": "webhook", "enabled": "on", "target": TOKEN_URL, "events": ["issued"]}
    response = client.post("/notifications/add/", form)
    page = response.content.decode()
    assert response.status_code == 200 and "shown this once" in page
    secret = SECRET.search(page).group(1)
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    with tenant_context(tenant_a):
        channel = NotificationChannel.objects.get(name="deploys")
        assert channel.events == ["issued"] and audited("portal", "deploys")
    for path in ("/notifications/", f"/notifications/{channel.pk}/"):
        later = client.get(path).content.decode()
        assert secret not in later and "SECRETTOKEN" not in later


def test_refusals_come_back_at_the_field(tenant_a, signed_in):  # noqa: F811
    client = signed_in(tenant_a, "admin")
    bad = {"name": "x", "kind": "webhook", "enabled": "on", "target": "file:///etc/passwd", "events": ["issued"]}
    response = client.post("/notifications/add/", bad)
    assert response.status_code == 200 and response.context["form"].errors.get("target")
    assert 'value="file:///etc/passwd"' not in response.content.decode()  # the URL field is never rendered back
    with tenant_context(tenant_a):
        assert not NotificationChannel.objects.exists()


def test_send_test_answers_in_place_for_htmx_and_as_a_message_without(tenant_a, signed_in, http_receiver):  # noqa: F811
    client = signed_in(tenant_a, "admin")
    with tenant_context(tenant_a):
        hook, _ = webhook_channel(http_receiver.url())
    fragment = client.post(f"/notifications/{hook.pk}/test/", headers={"HX-Request": "true"}).content.decode()
    assert "message--success" in fragment and "delivered (HTTP 200)" in fragment and "<html" not in fragment
    http_receiver.script(Reply(status=500, body=b"stack trace with password=hunter2"))
    response = client.post(f"/notifications/{hook.pk}/test/", follow=True)
    page = response.content.decode()
    assert "not delivered: the webhook answered 500" in page and "hunter2" not in page
    assert signed_in(tenant_a, "operator").post(f"/notifications/{hook.pk}/test/").status_code == 403


def test_rotate_unflag_and_delete(tenant_a, signed_in, channels_a):  # noqa: F811
    hook, mail = channels_a
    client = signed_in(tenant_a, "admin")
    rotated = client.post(f"/notifications/{hook.pk}/rotate-secret/")
    assert rotated.status_code == 200 and SECRET.search(rotated.content.decode())
    refused = client.post(f"/notifications/{mail.pk}/rotate-secret/", follow=True).content.decode()
    assert "message--error" in refused
    client.post(f"/notifications/{mail.pk}/unflag/")
    confirm = client.get(f"/notifications/{mail.pk}/delete/").content.decode()
    assert "alpha-ops" in confirm
    client.post(f"/notifications/{mail.pk}/delete/")
    with tenant_context(tenant_a):
        assert not NotificationChannel.objects.filter(pk=mail.pk).exists()
        assert audited("portal", "alpha-ops") and audited("portal", "alpha-hook")


def test_the_delivery_log_filters(tenant_a, signed_in, http_receiver):  # noqa: F811
    with tenant_context(tenant_a):
        good, _ = webhook_channel(http_receiver.url("/good"), name="good")
        bad, _ = webhook_channel(http_receiver.url("/bad"), name="bad")
        channel_test(channel=good, actor=TEST_ACTOR)
        http_receiver.script(Reply(status=410))
        channel_test(channel=bad, actor=TEST_ACTOR)
    client = signed_in(tenant_a, "viewer")
    every = client.get("/notifications/deliveries/").content.decode()
    assert "good" in every and "bad" in every and "HTTP 410" in every
    failed = client.get("/notifications/deliveries/", {"status": "failed"}).content.decode()
    assert "HTTP 410" in failed and "<td>good</td>" not in failed
    only_good = client.get("/notifications/deliveries/", {"channel": good.pk}).content.decode()
    assert "HTTP 410" not in only_good
    hostile = client.get("/notifications/deliveries/", {"channel": "1e9", "status": "<script>", "kind": "x" * 5000})
    assert hostile.status_code == 200 and "<script>" not in hostile.content.decode().split("</header>")[-1]


def test_another_tenants_channels_are_not_found(tenant_a, tenant_b, signed_in, channels_a):  # noqa: F811
    hook, _ = channels_a
    beta = signed_in(tenant_b, "admin")
    assert "alpha-hook" not in beta.get("/notifications/").content.decode()
    for path in (f"/notifications/{hook.pk}/", f"/notifications/{hook.pk}/delete/"):
        assert beta.get(path).status_code == 404
    for action in ("test", "rotate-secret", "unflag", "delete"):
        assert beta.post(f"/notifications/{hook.pk}/{action}/").status_code == 404
    with tenant_context(tenant_a):
        assert NotificationChannel.objects.filter(pk=hook.pk).exists()


def test_the_settings_page_shows_and_changes_the_thresholds(tenant_a, signed_in):  # noqa: F811
    assert "30, 14, 7, 1 days" in signed_in(tenant_a, "viewer").get("/settings/").content.decode()
    admin = signed_in(tenant_a, "admin")
    form = admin.get("/settings/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"expiry_warning_days": "10,5", "auto_renew_default": "on", "default_key_type": "ec256"})
    data.pop("default_ca_account", None)
    data.pop("default_dns_account", None)
    response = admin.post("/settings/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    with tenant_context(tenant_a):
        assert TenantSettings.load().expiry_warning_days == [10, 5]
    refused = admin.post("/settings/", {**data, "expiry_warning_days": "5,5,400"})
    assert refused.status_code == 200 and refused.context["form"].errors.get("expiry_warning_days")
