"""/api/notifications/channels: everyone reads (never a URL or secret), admins change; the webhook secret
is in the create and rotate answers only; bad input is a 400 at its field; tenants never see each other."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.notifications.models import NotificationChannel
from tests.api.conftest import _fresh_throttles, anon_client, api_client, api_user  # noqa: F401 - fixtures
from tests.notifications.servers import Reply
from tests.notifications.support import audited, email_channel, flag, webhook_channel

CHANNELS = "/api/notifications/channels"
TOKEN_URL = "https://hooks.example.com/services/T000/B000/SECRETTOKEN"
ACTIONS = ("test", "rotate-secret", "unflag")


def writes(pk: int) -> list[tuple[str, str]]:
    """Every request that changes channel ``pk`` (or reaches its destination)."""
    path = f"{CHANNELS}/{pk}"
    return [("patch", path), ("delete", path), *(("post", f"{path}/{action}") for action in ACTIONS)]


def _create(client, **body):
    return client.post(CHANNELS, body, format="json")


def test_an_admin_makes_a_webhook_and_sees_its_secret_once(tenant_a, api_client):  # noqa: F811
    client = api_client(tenant_a)
    response = _create(client, name="deploys", kind="webhook", target=TOKEN_URL)
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert len(secret) >= 32
    assert "hooks.example.com" in body["target_hint"] and "SECRETTOKEN" not in body["target_hint"]
    assert "target" not in body and b"SECRETTOKEN" not in response.content
    listed = client.get(CHANNELS)
    read = client.get(f"{CHANNELS}/{body['id']}")
    for later in (listed, read):
        assert later.status_code == 200
        assert secret.encode() not in later.content and b"SECRETTOKEN" not in later.content
        assert b'"secret"' not in later.content and b'"target"' not in later.content
    shown = read.json()
    assert shown["flagged_at"] is None and shown["consecutive_failures"] == 0 and shown["last_error"] == ""
    assert shown["events"] and "key_downloaded" not in shown["events"]  # opt-in
    with tenant_context(tenant_a):
        assert audited("api", "deploys")  # through the service, recorded with who and how


def test_an_email_channel_has_no_secret(tenant_a, api_client):  # noqa: F811
    body = _create(api_client(tenant_a), name="ops", kind="email", recipients=["ops@alpha.test"]).json()
    assert body["secret"] is None and body["recipients"] == ["ops@alpha.test"]


def test_patch_keeps_the_target_unless_a_new_one_is_given(tenant_a, api_client):  # noqa: F811
    client = api_client(tenant_a)
    made = _create(client, name="hook", kind="webhook", target=TOKEN_URL).json()
    changed = client.patch(f"{CHANNELS}/{made['id']}", {"enabled": False, "target": ""}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["enabled"] is False and "secret" not in changed.json()
    with tenant_context(tenant_a):
        assert NotificationChannel.objects.get(pk=made["id"]).target == TOKEN_URL
    moved = client.patch(f"{CHANNELS}/{made['id']}", {"target": "https://other.example.net/in"}, format="json")
    assert "other.example.net" in moved.json()["target_hint"]


def test_test_reports_what_the_destination_did(tenant_a, api_client, http_receiver):  # noqa: F811
    client = api_client(tenant_a)
    made = _create(client, name="hook", kind="webhook", target=http_receiver.url()).json()
    delivered = client.post(f"{CHANNELS}/{made['id']}/test")
    assert delivered.status_code == 200, delivered.content
    assert delivered.json()["status"] == "delivered" and delivered.json()["response_code"] == 200
    assert http_receiver.requests[-1].signature_valid(made["secret"])
    http_receiver.script(Reply(status=404, body=b"<html>secret page</html>"))
    refused = client.post(f"{CHANNELS}/{made['id']}/test").json()
    assert refused["status"] == "failed" and refused["response_code"] == 404 and refused["error"]
    assert "secret page" not in refused["error"]  # a remote body is never echoed


def test_rotate_gives_a_new_secret_once_and_the_old_one_stops(tenant_a, api_client, http_receiver):  # noqa: F811
    client = api_client(tenant_a)
    made = _create(client, name="hook", kind="webhook", target=http_receiver.url()).json()
    rotated = client.post(f"{CHANNELS}/{made['id']}/rotate-secret")
    assert rotated.status_code == 200
    secret = rotated.json()["secret"]
    assert secret != made["secret"] and secret.encode() not in client.get(f"{CHANNELS}/{made['id']}").content
    client.post(f"{CHANNELS}/{made['id']}/test")
    assert http_receiver.requests[-1].signature_valid(secret)
    assert not http_receiver.requests[-1].signature_valid(made["secret"])
    email = _create(client, name="ops", kind="email", recipients=["ops@alpha.test"]).json()
    assert client.post(f"{CHANNELS}/{email['id']}/rotate-secret").status_code == 400  # no secret to rotate


def test_unflag_clears_a_flagged_channel(tenant_a, api_client):  # noqa: F811
    client = api_client(tenant_a)
    with tenant_context(tenant_a):
        channel = email_channel()
        flag(channel)
    shown = client.get(f"{CHANNELS}/{channel.pk}").json()
    assert shown["flagged_at"] and shown["last_error"] == "HTTP 500 from hooks.example.com"
    unflagged = client.post(f"{CHANNELS}/{channel.pk}/unflag")
    assert unflagged.status_code == 200
    assert unflagged.json()["flagged_at"] is None and unflagged.json()["consecutive_failures"] == 0


def test_delete(tenant_a, api_client):  # noqa: F811
    client = api_client(tenant_a)
    made = _create(client, name="ops", kind="email", recipients=["ops@alpha.test"]).json()
    assert client.delete(f"{CHANNELS}/{made['id']}").status_code == 204
    assert client.get(f"{CHANNELS}/{made['id']}").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_read_but_never_change(tenant_a, api_client, role):  # noqa: F811
    with tenant_context(tenant_a):
        channel, _ = webhook_channel(TOKEN_URL)
    client = api_client(tenant_a, role)
    assert client.get(CHANNELS).status_code == 200
    assert client.get(f"{CHANNELS}/{channel.pk}").status_code == 200
    for method, url in [("post", CHANNELS), *writes(channel.pk)]:
        response = getattr(client, method)(url, {"name": "x", "kind": "email"}, format="json")
        assert response.status_code == 403, (method, url)
        assert response.json()["code"] == "permission_denied"


def test_anonymous_is_refused(tenant_a, anon_client):  # noqa: F811
    assert anon_client(tenant_a).get(CHANNELS).status_code == 401


def test_another_tenants_channel_is_invisible_and_untouchable(tenant_a, tenant_b, api_client):  # noqa: F811
    with tenant_context(tenant_a):
        channel, _ = webhook_channel(TOKEN_URL, name="alpha-hook")
    outsider = api_client(tenant_b)
    assert outsider.get(CHANNELS).json() == []
    for method, url in [("get", f"{CHANNELS}/{channel.pk}"), *writes(channel.pk)]:
        response = getattr(outsider, method)(url, {"enabled": False}, format="json")
        assert response.status_code == 404, (method, url)
        assert b"alpha-hook" not in response.content
    with tenant_context(tenant_a):
        assert NotificationChannel.objects.get(pk=channel.pk).enabled is True


HOSTILE = [
    ({"name": "x" * 5000, "kind": "email", "recipients": ["a@example.com"]}, "name"),
    ({"name": "mail", "kind": "email", "recipients": ["not an address"]}, "recipients"),
    ({"name": "mail", "kind": "email", "recipients": ["a@example.com"] * 51}, "recipients"),
    ({"name": "mail", "kind": "email", "recipients": "a@example.com"}, "recipients"),
    ({"name": "hook", "kind": "webhook", "target": "file:///etc/passwd"}, "target"),
    ({"name": "hook", "kind": "webhook", "target": "https://" + "a" * 5000 + ".example"}, "target"),
    ({"name": "hook", "kind": "webhook", "target": "gopher://example.com/"}, "target"),
    ({"name": "hook", "kind": "webhook", "target": "https://hooks.example.com/\r\nX-Evil: 1"}, "target"),
    ({"name": "chat", "kind": "apprise", "target": "file:///etc/passwd"}, "target"),
    ({"name": "mail", "kind": "email", "recipients": ["a@example.com"], "events": ["issued", "hacked"]}, "events"),
    ({"name": "mail", "kind": "email", "recipients": ["a@example.com"], "events": ["test"]}, "events"),
    (
        {"name": "mail", "kind": "email", "recipients": ["a@example.com"], "certificate_kinds": ["ca"]},
        "certificate_kinds",
    ),
    ({"name": "mail", "kind": "email", "recipients": ["a@example.com"], "name_patterns": ["x" * 300]}, "name_patterns"),
    ({"name": "mail", "kind": "email", "recipients": ["a@example.com"], "issuers": ["le"] * 51}, "issuers"),
    ({"name": "mail", "kind": "pigeon"}, "kind"),
    ({"name": "mail", "kind": "email", "recipients": ["a@example.com"], "enabled": "perhaps"}, "enabled"),
    ({"kind": "email", "recipients": ["a@example.com"]}, "name"),
]


@pytest.mark.parametrize(("body", "field"), HOSTILE, ids=[f"{i}-{f}" for i, (_, f) in enumerate(HOSTILE)])
def test_bad_input_is_a_400_at_its_field(tenant_a, api_client, body, field):  # noqa: F811
    client = api_client(tenant_a)
    response = _create(client, **body)
    assert response.status_code == 400, response.content
    assert any(key.split(".")[0] == field for key in response.json()["fields"]), response.json()
    assert b"/etc/passwd" not in response.content or field == "target"
    assert client.get(CHANNELS).json() == []


def test_a_taken_name_is_refused(tenant_a, api_client):  # noqa: F811
    client = api_client(tenant_a)
    _create(client, name="ops", kind="email", recipients=["a@example.com"])
    again = _create(client, name="ops", kind="email", recipients=["b@example.com"])
    assert again.status_code == 409 and again.json()["code"] == "name_taken" and "ops" in again.json()["error"]
    hostile = client.patch(
        f"{CHANNELS}/{client.get(CHANNELS).json()[0]['id']}", {"recipients": ["nope"]}, format="json"
    )
    assert hostile.status_code == 400 and "recipients.0" in hostile.json()["fields"]
