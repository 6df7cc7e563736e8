"""The tenant admin's notification pages: channels written through the services (audited as "admin"),
the URL write-only, the webhook secret on the answering page only, the actions, read-only records, and
the roles; the expiry thresholds on the settings form."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.services.users import user_create
from apps.certificates.models import TenantSettings
from apps.notifications.models import NotificationChannel
from apps.notifications.services import channel_test
from certmate.actors import Actor
from tests.conftest import PASSWORD, TENANT_A, TENANT_B
from tests.factories import TEST_ACTOR
from tests.notifications.servers import Reply
from tests.notifications.support import audited, email_channel, flag, webhook_channel

HOST = {"host": TENANT_A["domain"]}
CHANNELS = "/admin/notifications/notificationchannel/"
TOKEN_URL = "https://hooks.example.com/services/T000/B000/SECRETTOKEN"


def sign_in(client, tenant, role: str = "admin", host=HOST):
    email = TENANT_A["admin_email"] if role == "admin" and host is HOST else f"{role}@{host['host']}"
    if email != TENANT_A["admin_email"]:
        with tenant_context(tenant):
            user_create(email=email, password=PASSWORD, role=role, actor=Actor.command())
    assert client.post("/admin/login/", {"username": email, "password": PASSWORD}, headers=host).status_code == 302
    return client


@pytest.fixture
def admin_client(client, tenant_a):
    return sign_in(client, tenant_a)


def form(**values) -> dict:
    base = {"name": "hook", "kind": "webhook", "enabled": "on", "target": "", "recipients": "", "issuers": ""}
    return {**base, "name_patterns": "", "events": ["issued", "renewal_failed"], **values}


def test_adding_a_webhook_shows_its_secret_once_and_never_its_url(admin_client, tenant_a):
    response = admin_client.post(f"{CHANNELS}add/", form(target=TOKEN_URL), headers=HOST)
    page = response.content.decode()
    assert response.status_code == 200, page[:3000]
    secret = re.search(r'<code class="webhook-secret">([^<]+)</code>', page).group(1)
    assert "shown this once" in page and "SECRETTOKEN" not in page
    with tenant_context(tenant_a):
        channel = NotificationChannel.objects.get(name="hook")
        assert channel.target == TOKEN_URL and channel.events == ["issued", "renewal_failed"]
        assert audited("admin", "hook")
    change = admin_client.get(f"{CHANNELS}{channel.pk}/change/", headers=HOST).content.decode()
    listing = admin_client.get(CHANNELS, headers=HOST).content.decode()
    for later in (change, listing):
        assert secret not in later and "SECRETTOKEN" not in later
    assert "hooks.example.com" in listing


def test_a_change_without_a_url_keeps_the_stored_one(admin_client, tenant_a):
    with tenant_context(tenant_a):
        channel, _ = webhook_channel(TOKEN_URL)
    response = admin_client.post(f"{CHANNELS}{channel.pk}/change/", form(name="renamed"), headers=HOST)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(tenant_a):
        channel.refresh_from_db()
        assert channel.name == "renamed" and channel.target == TOKEN_URL
        assert audited("admin", "renamed")


@pytest.mark.parametrize(
    ("values", "field_text"),
    [
        ({"target": "file:///etc/passwd"}, "file"),
        ({"kind": "email", "recipients": "ops@example.com\nnot an address"}, "not an address"),
        ({"kind": "email", "recipients": "\n".join(f"a{i}@example.com" for i in range(60))}, "at most 20"),
        ({"name": "x" * 500, "target": TOKEN_URL}, "at most 100"),
        ({"events": ["issued", "hacked"], "target": TOKEN_URL}, "hacked"),
    ],
)
def test_bad_input_comes_back_on_the_form(admin_client, tenant_a, values, field_text):
    response = admin_client.post(f"{CHANNELS}add/", form(**values), headers=HOST)
    page = response.content.decode()
    assert response.status_code == 200 and "errornote" in page
    assert field_text in page
    with tenant_context(tenant_a):
        assert not NotificationChannel.objects.exists()


def _act(client, action, *channels, follow=True):
    data = {"action": action, "_selected_action": [channel.pk for channel in channels]}
    return client.post(CHANNELS, data, headers=HOST, follow=follow).content.decode()


def test_send_test_says_what_happened(admin_client, tenant_a, http_receiver):
    with tenant_context(tenant_a):
        good, _ = webhook_channel(http_receiver.url("/good"), name="good")
        bad, _ = webhook_channel(http_receiver.url("/bad"), name="bad")
    http_receiver.script(Reply(status=404))  # "bad" goes first (ordered by name)
    page = _act(admin_client, "send_test", good, bad).lower()  # the admin capitalises its messages
    assert "good: the test notice was delivered (http 200)" in page
    assert "bad: the test notice was not delivered: the webhook answered 404" in page
    assert sorted(http_receiver.paths()) == ["/bad", "/good"]


def test_rotate_shows_the_new_secret_once_and_unflag_clears(admin_client, tenant_a, http_receiver):
    with tenant_context(tenant_a):
        hook, first = webhook_channel(http_receiver.url())
        mail = email_channel()
        flag(mail)
    page = _act(admin_client, "rotate_secret", hook, mail, follow=False)
    secret = re.search(r'<code class="webhook-secret">([^<]+)</code>', page).group(1)
    assert secret != first and "ops: only webhook channels" in page.lower()  # the e-mail channel's refusal
    with tenant_context(tenant_a):
        channel_test(channel=NotificationChannel.objects.get(pk=hook.pk), actor=TEST_ACTOR)
    assert http_receiver.requests[-1].signature_valid(secret)
    assert "unflagged ops" in _act(admin_client, "unflag", mail).lower()
    with tenant_context(tenant_a):
        mail.refresh_from_db()
        assert mail.flagged_at is None and audited("admin", "ops")


def test_delete_goes_through_the_service(admin_client, tenant_a):
    with tenant_context(tenant_a):
        channel = email_channel()
    response = admin_client.post(f"{CHANNELS}{channel.pk}/delete/", {"post": "yes"}, headers=HOST)
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert not NotificationChannel.objects.exists() and audited("admin", "ops")


def test_deliveries_and_notices_are_read_only_records(admin_client, tenant_a, http_receiver):
    with tenant_context(tenant_a):
        channel, _ = webhook_channel(http_receiver.url())
        delivery = channel_test(channel=channel, actor=TEST_ACTOR)
    listing = admin_client.get("/admin/notifications/delivery/?status__exact=delivered", headers=HOST)
    assert listing.status_code == 200 and "hook" in listing.content.decode()
    assert admin_client.get("/admin/notifications/delivery/add/", headers=HOST).status_code == 403
    shown = admin_client.get(f"/admin/notifications/delivery/{delivery.pk}/change/", headers=HOST).content.decode()
    assert 'name="_save"' not in shown
    assert admin_client.get("/admin/notifications/notice/?kind=test", headers=HOST).status_code == 200
    assert admin_client.get("/admin/notifications/notice/add/", headers=HOST).status_code == 403


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_below_admin_the_channels_are_read_only(client, tenant_a, role):
    with tenant_context(tenant_a):
        channel = email_channel()
    sign_in(client, tenant_a, role)
    assert client.get(CHANNELS, headers=HOST).status_code == 200
    assert client.get(f"{CHANNELS}add/", headers=HOST).status_code == 403
    client.post(f"{CHANNELS}{channel.pk}/change/", form(kind="email", recipients="x@example.com"), headers=HOST)
    _act(client, "unflag", channel)
    with tenant_context(tenant_a):
        channel.refresh_from_db()
        assert channel.recipients == ["ops@example.com"]


def test_another_tenants_channel_is_not_in_this_admin(client, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        channel = email_channel(name="alpha-ops")
    beta = {"host": TENANT_B["domain"]}
    assert client.post("/admin/login/", {"username": TENANT_B["admin_email"], "password": PASSWORD}, headers=beta)
    assert "alpha-ops" not in client.get(CHANNELS, headers=beta).content.decode()
    assert client.get(f"{CHANNELS}{channel.pk}/change/", headers=beta, follow=True).status_code in (200, 404)
    assert "alpha-ops" not in client.get(f"{CHANNELS}{channel.pk}/change/", headers=beta, follow=True).content.decode()


def test_the_settings_form_takes_the_thresholds(admin_client, tenant_a):
    with tenant_context(tenant_a):
        settings = TenantSettings.load()
    url = f"/admin/certificates/tenantsettings/{settings.pk}/change/"
    page = admin_client.get(url, headers=HOST).content.decode()
    assert 'name="expiry_warning_days"' in page and "30,14,7,1" in page
    base = {"default_key_type": "ec256", "auto_renew_default": "on", "renewal_threshold_days": "30"}
    refused = admin_client.post(url, {**base, "expiry_warning_days": "7,7"}, headers=HOST).content.decode()
    assert "each threshold once" in refused
    assert admin_client.post(url, {**base, "expiry_warning_days": "3,60"}, headers=HOST).status_code == 302
    with tenant_context(tenant_a):
        assert TenantSettings.load().expiry_warning_days == [60, 3]
