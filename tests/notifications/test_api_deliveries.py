"""/api/notifications/deliveries: the log everyone reads, filtered by channel, status and event, paged,
read-only, per tenant; and the expiry thresholds in /api/settings."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import TenantSettings
from apps.notifications.services import channel_test
from tests.api.conftest import _fresh_throttles, api_client, api_user  # noqa: F401 - fixtures
from tests.factories import TEST_ACTOR
from tests.notifications.servers import Reply
from tests.notifications.support import webhook_channel

DELIVERIES = "/api/notifications/deliveries"


@pytest.fixture
def two_hooks(tenant_a, http_receiver):
    """Tenant A: "good" delivered twice, "bad" failed once (a 410 is for good)."""
    with tenant_context(tenant_a):
        good, _ = webhook_channel(http_receiver.url("/good"), name="good")
        bad, _ = webhook_channel(http_receiver.url("/bad"), name="bad")
        channel_test(channel=good, actor=TEST_ACTOR)
        channel_test(channel=good, actor=TEST_ACTOR)
        http_receiver.script(Reply(status=410))
        channel_test(channel=bad, actor=TEST_ACTOR)
    return good, bad


def test_every_role_reads_the_log_with_the_outcome_of_each_delivery(tenant_a, api_client, two_hooks):  # noqa: F811
    _, bad = two_hooks
    rows = api_client(tenant_a, "viewer").get(DELIVERIES).json()
    assert [row["channel_name"] for row in rows] == ["bad", "good", "good"]  # newest first
    failed = rows[0]
    assert failed["status"] == "failed" and failed["response_code"] == 410 and failed["error"]
    assert failed["kind"] == "test" and failed["attempts"] == 1 and failed["delivered_at"] is None
    assert failed["channel"] == bad.pk and failed["delivery_id"]
    assert rows[1]["status"] == "delivered" and rows[1]["delivered_at"]


def test_filters(tenant_a, api_client, two_hooks):  # noqa: F811
    good, _ = two_hooks
    client = api_client(tenant_a, "viewer")
    assert {row["channel_name"] for row in client.get(DELIVERIES, {"channel": good.pk}).json()} == {"good"}
    assert [row["channel_name"] for row in client.get(DELIVERIES, {"status": "failed"}).json()] == ["bad"]
    assert len(client.get(DELIVERIES, {"kind": "test"}).json()) == 3
    assert client.get(DELIVERIES, {"kind": "issued"}).json() == []
    paged = client.get(DELIVERIES, {"limit": 2}).json()
    assert paged["count"] == 3 and len(paged["results"]) == 2 and paged["next"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"kind": "party"}, "kind"),
        ({"channel": "one"}, "channel"),
        ({"channel": "\u0661"}, "channel"),  # an Arabic-Indic one
        ({"channel": "9" * 40}, "channel"),
    ],
)
def test_bad_filters_are_a_400(tenant_a, api_client, query, field):  # noqa: F811
    response = api_client(tenant_a, "viewer").get(DELIVERIES, query)
    assert response.status_code == 400 and field in response.json()["fields"]


def test_the_log_is_read_only(tenant_a, api_client):  # noqa: F811
    client = api_client(tenant_a)
    assert client.post(DELIVERIES, {}, format="json").status_code == 405
    assert client.delete(f"{DELIVERIES}/1").status_code == 404


def test_another_tenants_deliveries_and_channels_stay_apart(tenant_a, tenant_b, api_client, two_hooks):  # noqa: F811
    good, _ = two_hooks
    outsider = api_client(tenant_b)
    assert outsider.get(DELIVERIES).json() == []
    assert outsider.get(DELIVERIES, {"channel": good.pk}).status_code == 404
    assert api_client(tenant_a, "viewer").get(DELIVERIES).status_code == 200


def test_expiry_thresholds_are_a_setting(tenant_a, tenant_b, api_client):  # noqa: F811
    admin = api_client(tenant_a)
    assert admin.get("/api/settings").json()["expiry_warning_days"] == [30, 14, 7, 1]
    changed = admin.patch("/api/settings", {"expiry_warning_days": [7, 21, 1]}, format="json")
    assert changed.status_code == 200 and changed.json()["expiry_warning_days"] == [21, 7, 1]
    assert api_client(tenant_b).get("/api/settings").json()["expiry_warning_days"] == [30, 14, 7, 1]
    assert admin.patch("/api/settings", {"expiry_warning_days": []}, format="json").json()["expiry_warning_days"] == []
    with tenant_context(tenant_a):
        assert TenantSettings.load().expiry_warning_days == []
    viewer = api_client(tenant_a, "viewer")
    assert viewer.patch("/api/settings", {"expiry_warning_days": [3]}, format="json").status_code == 403


@pytest.mark.parametrize(
    "days",
    [[0], [366], [7, 7], list(range(1, 12)), ["soon"], "30", [1.5], [-1], [10**12], ["\u0663"]],
)
def test_bad_thresholds_are_a_400(tenant_a, api_client, days):  # noqa: F811
    response = api_client(tenant_a).patch("/api/settings", {"expiry_warning_days": days}, format="json")
    assert response.status_code == 400, response.content
    assert any(key.startswith("expiry_warning_days") for key in response.json()["fields"])
