"""Channels through their services: validated (hostile values refused with field errors), secrets encrypted
and never echoed, every change audited, each tenant's channels its own."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.notifications.kinds import DEFAULT_KINDS
from apps.notifications.models import NotificationChannel
from apps.notifications.selectors import channel_get, channels_list, deliveries_list
from apps.notifications.services import (
    channel_create,
    channel_delete,
    channel_rotate_secret,
    channel_unflag,
    channel_update,
)
from certmate.audit.models import AuditEvent
from certmate.errors import NotFound
from tests.factories import TEST_ACTOR
from tests.notifications.helpers import email, webhook

TARGET = "https://hooks.example.com/services/T0001/B0002/s3cr3t-token?key=qwerty123"


def _errors(**fields) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        channel_create(actor=TEST_ACTOR, **{"name": "x", **fields})
    return refused.value.message_dict


def test_a_webhook_secret_is_shown_once_and_the_target_never_again(tenant_a):
    with tenant_a:
        channel, secret = webhook(TARGET)
        assert len(secret) >= 40 and channel.secret == secret
        assert channel.target_hint == "https://hooks.example.com/…"
        assert channel.events == DEFAULT_KINDS and "key_downloaded" not in channel.events
        with connection.cursor() as cursor:
            cursor.execute("SELECT target, secret FROM notifications_notificationchannel WHERE id = %s", [channel.pk])
            stored = " ".join(cursor.fetchone())
        assert "s3cr3t-token" not in stored and secret not in stored
        created = AuditEvent.objects.get(action="notification_channel.created", object_id=str(channel.pk))
        assert created.changes["target"] == "changed" and "s3cr3t" not in str(created.changes)
        assert secret not in str(created.changes)
        rotated = channel_rotate_secret(actor=TEST_ACTOR, channel=channel)
        assert rotated != secret and NotificationChannel.objects.get(pk=channel.pk).secret == rotated
        assert AuditEvent.objects.filter(action="notification_channel.secret_rotated").exists()


def test_other_kinds_have_no_secret_to_rotate(tenant_a):
    with tenant_a:
        channel, secret = channel_create(actor=TEST_ACTOR, name="ops", kind="email", recipients=["ops@alpha.test"])
        assert secret is None
        with pytest.raises(ValidationError) as refused:
            channel_rotate_secret(actor=TEST_ACTOR, channel=channel)
        assert "kind" in refused.value.message_dict


def test_an_update_without_a_target_keeps_it_and_a_new_one_is_checked(tenant_a):
    with tenant_a:
        channel, _ = webhook(TARGET)
        channel = channel_update(actor=TEST_ACTOR, channel=channel, name="renamed", target="", enabled=False)
        assert (channel.name, channel.target, channel.enabled) == ("renamed", TARGET, False)
        with pytest.raises(ValidationError) as refused:
            channel_update(actor=TEST_ACTOR, channel=channel, target="http://169.254.169.254/latest/meta-data")
        assert "link-local" in refused.value.message_dict["target"][0]
        with pytest.raises(ValidationError) as refused:
            channel_update(actor=TEST_ACTOR, channel=channel, kind="email")
        assert "kind" in refused.value.message_dict
        assert NotificationChannel.objects.get(pk=channel.pk).target == TARGET
        updated = AuditEvent.objects.get(action="notification_channel.updated", object_id=str(channel.pk))
        assert updated.changes["name"] == ["hook", "renamed"] and "target" not in updated.changes


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"kind": "sms"}, "kind", "choose from"),
        ({"kind": "email"}, "recipients", "e-mail addresses"),
        ({"kind": "email", "recipients": ["not an address"]}, "recipients", "not an e-mail address"),
        ({"kind": "email", "recipients": [f"u{i}@a.test" for i in range(21)]}, "recipients", "1 to 20"),
        ({"kind": "webhook", "target": "ftp://example.com/x"}, "target", "must start with https:// or http://"),
        ({"kind": "webhook", "target": "https://10.1.2.3/hook"}, "target", "private address"),
        ({"kind": "webhook", "target": "https://u:p@example.com/hook"}, "target", "user name or password"),
        ({"kind": "webhook", "target": TARGET, "events": ["issued", "hacked"]}, "events", "unknown events"),
        ({"kind": "webhook", "target": TARGET, "events": ["digest"]}, "events", "e-mail channels only"),
        ({"kind": "webhook", "target": TARGET, "name_patterns": ["*.ex ample.com"]}, "name_patterns", "patterns"),
        ({"kind": "webhook", "target": TARGET, "certificate_kinds": ["ca"]}, "certificate_kinds", "choose from"),
        ({"kind": "webhook", "target": TARGET, "recipients": ["a@b.test"]}, "recipients", "only e-mail"),
        ({"kind": "email", "recipients": ["a@b.test"], "target": TARGET}, "target", "no target URL"),
        ({"kind": "email", "recipients": ["a@b.test"], "name": ""}, "name", "1 to 100"),
        ({"kind": "email", "recipients": ["a@b.test"], "name": "n" * 101}, "name", "1 to 100"),
    ],
)
def test_bad_values_are_refused_with_the_field_that_is_wrong(tenant_a, fields, field, said):
    with tenant_a:
        errors = _errors(**fields)
    assert said in " ".join(errors[field])


def test_two_channels_cannot_share_a_name(tenant_a):
    with tenant_a:
        email(["a@alpha.test"], name="ops")
        assert "another channel is named" in _errors(name="ops", kind="email", recipients=["b@alpha.test"])["name"][0]


def test_delete_and_unflag_are_audited(tenant_a):
    with tenant_a:
        channel = email(["a@alpha.test"])
        NotificationChannel.objects.filter(pk=channel.pk).update(consecutive_failures=9, flagged_at="2026-01-01T00:00Z")
        channel = channel_unflag(actor=TEST_ACTOR, channel=channel)
        assert channel.flagged_at is None and channel.consecutive_failures == 0
        channel_delete(actor=TEST_ACTOR, channel=channel)
        with pytest.raises(NotFound):
            channel_get(pk=channel.pk)
        actions = set(AuditEvent.objects.filter(object_id=str(channel.pk)).values_list("action", flat=True))
    assert {"notification_channel.unflagged", "notification_channel.deleted"} <= actions


def test_each_tenant_sees_only_its_own_channels(tenant_a, tenant_b):
    with tenant_a:
        channel = email(["a@alpha.test"], name="alpha-only")
    with tenant_b:
        assert not channels_list().exists()
        assert not deliveries_list().exists()
        with pytest.raises(NotFound):
            channel_get(pk=channel.pk)
        email(["b@beta.test"], name="alpha-only")  # the same name is free in another tenant
    with tenant_a:
        assert [c.name for c in channels_list()] == ["alpha-only"]
