"""CertMate's notifications block imported as channels: its e-mail recipients an e-mail channel, its Slack
webhook an Apprise channel, its generic webhook a webhook channel; what certmate does not keep (the SMTP
server and password, the bearer token) reported; a second run changes nothing; a masked backup asks."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from apps.importing.report import Outcome
from apps.notifications.models import NotificationChannel
from tests.importing.conftest import run_import

pytestmark = pytest.mark.django_db
ITEM = "settings.json: notifications"


def _entries(report, prefix=ITEM):
    return {entry.item: entry for entry in report.entries if entry.item.startswith(prefix)}


def test_the_fixture_notifications_become_channels(tenant_a, tenant_b):
    report = run_import(tenant_a)
    entries = _entries(report)
    assert entries[f"{ITEM}.channels.smtp"].outcome == Outcome.IMPORTED
    assert entries[f"{ITEM}.channels.webhooks[ops-slack]"].outcome == Outcome.IMPORTED
    assert entries[f"{ITEM}.channels.webhooks[inventory]"].outcome == Outcome.IMPORTED
    server = entries[f"{ITEM}.channels.smtp.host"]
    assert server.outcome == Outcome.ATTENTION and "platform's mail server" in server.reason
    token = entries[f"{ITEM}.channels.webhooks[inventory] (not kept)"]
    assert token.outcome == Outcome.ATTENTION and "auth_token" in token.reason
    assert "smtp-fixture-password" not in report.as_json() and "webhook-fixture-token" not in report.as_json()
    with tenant_context(tenant_a):
        channels = {channel.name: channel for channel in NotificationChannel.objects.all()}
    assert set(channels) == {"email", "ops-slack", "inventory"}
    email, slack, hook = channels["email"], channels["ops-slack"], channels["inventory"]
    assert email.kind == "email" and email.recipients == ["ops@alpha.test"]
    # CertMate's filter (expiring, failed) as certmate's kinds; its digest (on by default) kept.
    assert set(email.events) == {"expiring", "expired", "issue_failed", "renewal_failed", "digest"}
    assert slack.kind == "apprise" and slack.target == "slack://T000/B000/fixture"
    assert set(slack.events) == {"expiring", "expired", "issue_failed", "renewal_failed"}
    assert hook.kind == "webhook" and hook.target == "https://hooks.alpha.test/certmate" and hook.secret
    with tenant_context(tenant_b):
        assert not NotificationChannel.objects.exists()


def test_a_second_run_changes_nothing(tenant_a):
    run_import(tenant_a)
    again = _entries(run_import(tenant_a))
    assert {entry.outcome for item, entry in again.items() if "[" in item and "not kept" not in item} == {
        Outcome.UNCHANGED
    }
    assert again[f"{ITEM}.channels.smtp"].outcome == Outcome.UNCHANGED
    with tenant_context(tenant_a):
        assert NotificationChannel.objects.count() == 3


def _settings_with(data_copy, notifications):
    path = data_copy / "data" / "settings.json"
    if not path.exists():
        path = data_copy / "settings.json"
    settings = json.loads(path.read_text())
    settings["notifications"] = notifications
    path.write_text(json.dumps(settings))
    return data_copy


def test_masked_and_unknown_channels_are_reported(tenant_a, data_copy):
    source = _settings_with(
        data_copy,
        {
            "enabled": True,
            "events": ["certificate_renewed", "certificate_exploded"],
            "channels": {
                "webhooks": [
                    {"name": "masked", "type": "discord", "url": "********", "enabled": True},
                    {"name": "pager", "type": "carrier-pigeon", "url": "https://x.alpha.test", "enabled": True},
                    {
                        "name": "chat",
                        "type": "discord",
                        "url": "https://discord.com/api/webhooks/123/abcTOKEN",
                        "enabled": True,
                        "events": ["certificate_renewed"],
                    },
                ]
            },
        },
    )
    entries = _entries(run_import(tenant_a, source))
    assert entries[f"{ITEM}.channels.webhooks[masked]"].outcome == Outcome.ATTENTION
    assert "masked" in entries[f"{ITEM}.channels.webhooks[masked]"].reason
    assert "carrier-pigeon" in entries[f"{ITEM}.channels.webhooks[pager]"].reason
    assert entries[f"{ITEM}.channels.webhooks[chat]"].outcome == Outcome.IMPORTED
    with tenant_context(tenant_a):
        chat = NotificationChannel.objects.get()
    assert chat.target == "discord://123/abcTOKEN" and chat.events == ["renewed"]


def test_a_block_of_another_shape_asks_for_attention(tenant_a, data_copy):
    entries = _entries(run_import(tenant_a, _settings_with(data_copy, {"channels": ["smtp"]})))
    assert entries[ITEM].outcome == Outcome.ATTENTION
    with tenant_context(tenant_a):
        assert not NotificationChannel.objects.exists()
