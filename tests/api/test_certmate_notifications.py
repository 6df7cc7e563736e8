"""CertMate's notification paths over certmate's channels, in CertMate's shapes: the config block read
(every URL masked) and written (the importer's mapping; masked values keep what is stored), a test
through a named channel to a real receiver, the webhook preview (nothing sent), the digest on demand and
the delivery log; admins only; two tenants; bad input 400."""

from __future__ import annotations

import copy
import json

import pytest
from django_tenants.utils import tenant_context

from apps.notifications.models import Delivery, NotificationChannel
from tests.importing.conftest import DATA
from tests.notifications.conftest import http_receiver, smtp_server  # noqa: F401 - fixtures
from tests.notifications.servers import Reply
from tests.notifications.support import email_channel

CONFIG = "/api/notifications/config"
ROUTES = [("get", CONFIG), ("post", CONFIG), ("post", "/api/notifications/test"),
          ("post", "/api/notifications/webhook/preview"), ("post", "/api/digest/send"),
          ("get", "/api/webhooks/deliveries")]  # fmt: skip
SLACK = "https://hooks.slack.com/services/T111/B222/SLACKSECRET"


def _block(hook_url: str) -> dict:
    block = json.loads((DATA / "data" / "settings.json").read_text())["notifications"]
    block = copy.deepcopy(block)
    block["channels"]["webhooks"][0]["url"] = SLACK
    block["channels"]["webhooks"][1]["url"] = hook_url
    return block


@pytest.fixture
def admin(tenant_a, api_client):
    return api_client(tenant_a, "admin")


def test_a_certmate_block_saved_reads_back_masked_and_round_trips(tenant_a, tenant_b, admin, api_client):
    saved = admin.post(CONFIG, _block("https://hooks.alpha.test/certmate"), format="json")
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["message"] == "Notification settings saved"
    assert any("platform's mail server" in note for note in body["not_kept"])
    assert any("auth_token" in note for note in body["not_kept"])
    read = admin.get(CONFIG)
    assert read.status_code == 200
    for secret in (b"SLACKSECRET", b"smtp-fixture-password", b"webhook-fixture-token", b"hooks.alpha.test/certmate"):
        assert secret not in read.content
    config = read.json()
    assert config["enabled"] is True and config["digest_enabled"] is True
    assert config["events"] == ["certificate_expiring", "certificate_failed"]
    assert config["channels"]["smtp"]["to_addresses"] == ["ops@alpha.test"]
    assert config["channels"]["smtp"]["enabled"] is True
    hooks = {hook["name"]: hook for hook in config["channels"]["webhooks"]}
    assert hooks["ops-slack"]["type"] == "slack" and hooks["ops-slack"]["url"] == "********"
    assert hooks["inventory"]["type"] == "generic" and hooks["inventory"]["url"] == "********"
    # CertMate's UI sends the GET answer back, masked: the stored URLs stay; a change is applied.
    config["channels"]["smtp"]["to_addresses"] = ["pki@alpha.test"]
    config["channels"]["webhooks"][0]["enabled"] = False
    assert admin.post(CONFIG, config, format="json").status_code == 200
    with tenant_context(tenant_a):
        channels = {channel.name: channel for channel in NotificationChannel.objects.all()}
    assert channels["ops-slack"].target == "slack://T111/B222/SLACKSECRET"
    assert channels["inventory"].target == "https://hooks.alpha.test/certmate"
    assert channels["email"].recipients == ["pki@alpha.test"] and not channels["inventory"].enabled
    # CertMate replaces its webhook list as a whole: a webhook left out is deleted.
    config["channels"]["webhooks"] = config["channels"]["webhooks"][1:]
    assert admin.post(CONFIG, config, format="json").status_code == 200
    names = [hook["name"] for hook in admin.get(CONFIG).json()["channels"]["webhooks"]]
    assert names == ["ops-slack"]
    # Tenant B sees none of it.
    theirs = api_client(tenant_b, "admin").get(CONFIG).json()
    assert theirs["channels"]["webhooks"] == [] and theirs["channels"]["smtp"]["to_addresses"] == []


@pytest.mark.parametrize(
    "body",
    [
        ["not", "an", "object"],
        {"channels": ["smtp"]},
        {"channels": {"webhooks": {"name": "x"}}},
        {"events": "certificate_failed"},
        {"channels": {"smtp": {"enabled": True, "to_addresses": ["not-an-address"]}}},
        {"channels": {"webhooks": [{"name": "new", "type": "generic", "url": "********", "enabled": True}]}},
        {"channels": {"webhooks": [{"name": "x", "type": "generic", "url": "ftp://x.alpha.test", "enabled": True}]}},
        {"channels": {"webhooks": [{"name": "a", "type": "generic", "url": "https://a.alpha.test"},
                                   {"name": "a", "type": "generic", "url": "https://b.alpha.test"}]}},
        {"channels": {"webhooks": [{"name": "x" * 101, "type": "generic", "url": "https://a.alpha.test"}]}},
    ],
)  # fmt: skip
def test_bad_config_is_a_400_and_writes_nothing(tenant_a, admin, body):
    response = admin.post(CONFIG, body, format="json")
    assert response.status_code == 400, response.content
    with tenant_context(tenant_a):
        assert not NotificationChannel.objects.exists()


def test_a_test_goes_through_the_named_channel(tenant_a, admin, http_receiver, smtp_server):  # noqa: F811
    hook = {"name": "inventory", "type": "generic", "url": http_receiver.url(), "enabled": True}
    block = {
        "enabled": True,
        "channels": {"smtp": {"enabled": True, "to_addresses": ["ops@alpha.test"]}, "webhooks": [hook]},
    }
    assert admin.post(CONFIG, block, format="json").status_code == 200
    sent = admin.post("/api/notifications/test", {"channel_type": "webhook", "config": {"name": "inventory"}},
                      format="json")  # fmt: skip
    assert sent.status_code == 200, sent.content
    assert sent.json()["success"] is True and sent.json()["status"] == 200
    assert json.loads(http_receiver.requests[-1].body)["event"] == "test"
    http_receiver.script(Reply(status=500, body=b"<html>secret page</html>"))
    failed = admin.post("/api/notifications/test", {"channel_type": "webhook", "config": {"name": "inventory"}},
                        format="json").json()  # fmt: skip
    assert failed["success"] is False and failed["status"] == 500 and "secret page" not in failed["error"]
    mailed = admin.post("/api/notifications/test", {"channel_type": "smtp", "config": {}}, format="json")
    assert mailed.json()["success"] is True and smtp_server.to("ops@alpha.test")
    log = admin.get("/api/webhooks/deliveries?limit=2").json()
    assert [(row["webhook_name"], row["webhook_type"], row["event"], row["success"]) for row in log] == [
        ("email", "smtp", "test", True), ("inventory", "generic", "test", False)]  # fmt: skip
    assert log[1]["status"] == 500 and log[1]["attempts"] == 1 and "127.0.0.1" in log[1]["url"]
    assert len(admin.get("/api/webhooks/deliveries?limit=abc").json()) == 3  # CertMate: a bad limit is the default


@pytest.mark.parametrize(
    "body, status",
    [
        ({}, 400),
        ({"channel_type": "fax", "config": {}}, 400),
        ({"channel_type": "webhook", "config": "inventory"}, 400),
        ({"channel_type": "webhook", "config": {}}, 400),
        ({"channel_type": "webhook", "config": {"name": "nobody"}}, 404),
        ({"channel_type": "smtp"}, 404),  # no e-mail channel yet
    ],
)
def test_a_bad_test_request_is_refused(admin, body, status):
    assert admin.post("/api/notifications/test", body, format="json").status_code == status


def test_the_preview_shows_the_payload_and_sends_nothing(tenant_a, admin, http_receiver):  # noqa: F811
    block = {"channels": {"webhooks": [{"name": "inventory", "url": http_receiver.url(), "enabled": True}]}}
    assert admin.post(CONFIG, block, format="json").status_code == 200
    preview = admin.post("/api/notifications/webhook/preview",
                         {"config": {"name": "inventory", "type": "generic"}, "event": "certificate_expiring"},
                         format="json")  # fmt: skip
    assert preview.status_code == 200, preview.content
    shown = preview.json()
    body = json.loads(shown["body"])
    assert shown["method"] == "POST" and shown["url"].startswith("http://127.0.0.1")
    assert body["event"] == "expiring" and body["version"] == 1 and body["certificate"]["identifier"] == "example.com"
    assert shown["headers"]["X-Certmate-Signature"].startswith("v1=<")
    assert not http_receiver.requests
    with tenant_context(tenant_a):
        assert not Delivery.objects.exists()
    for bad in ({"config": {"type": "slack"}}, {"event": "Renewed!"}, {"event": "certificate_exploded"},
                {"config": {"name": "nobody"}}, {"config": ["x"]}):  # fmt: skip
        assert admin.post("/api/notifications/webhook/preview", bad, format="json").status_code in (400, 404)


def test_the_digest_is_sent_on_demand_once_a_week(tenant_a, admin):
    assert admin.post("/api/digest/send").json() == {
        "skipped": "no enabled channel subscribes to the weekly digest (event 'digest', e-mail channels)"
    }
    with tenant_context(tenant_a):
        email_channel(events=["digest"])
    sent = admin.post("/api/digest/send")
    assert sent.status_code == 200 and sent.json() == {"success": True, "queued": 1}
    assert "already" in admin.post("/api/digest/send").json()["skipped"]


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_reach_these_routes(tenant_a, api_client, anon_client, role):
    client = api_client(tenant_a, role)
    for method, path in ROUTES:
        assert getattr(client, method)(path, {}, format="json").status_code == 403, path
        assert getattr(anon_client(tenant_a), method)(path, {}, format="json").status_code == 401, path
