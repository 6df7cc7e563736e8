"""A storage target changed through the API and through the tenant admin, by the same tenant admin: the
same change has the same outcome. A valid change leaves the same active target and one audit event each
(channel api or admin, same action, object and changes, no secret in it); a refused change is refused
with the same reasons, and changes and records nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django_tenants.utils import tenant_context

from apps.storage.models import StorageConfig
from apps.storage.services import storage_config_active, storage_config_set
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.conftest import TENANT_A

HOST = {"host": TENANT_A["domain"]}
SETUP = Actor.system("tests")
STORED_TOKEN = "hvs.STORED-TOKEN-MARKER"
GIVEN_TOKEN = "hvs.GIVEN-TOKEN-MARKER"


@pytest.fixture(autouse=True)
def _storage_root(tmp_path, settings):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"


@dataclass(frozen=True)
class Outcome:
    changed: bool
    reasons: list[str]  # why the change was refused, as the face says it
    active: tuple  # the active target afterwards: id, backend, settings, credentials
    events: list[dict]  # the audit events the change recorded


def through_api(client: Client, change: dict):
    body = {"backend": change["backend"], "settings": change["settings"]}
    if change.get("credentials") is not None:
        body["credentials"] = change["credentials"]
    response = client.put("/api/storage", json.dumps(body), content_type="application/json", headers=HOST)
    if response.status_code == 200:
        return True, []
    answer = response.json()
    assert response.status_code in (400, 502), answer
    return False, [m for messages in answer.get("fields", {}).values() for m in messages] or [answer["error"]]


def through_admin(client: Client, change: dict):
    with tenant_context(client.tenant):
        active = storage_config_active().pk
    form = {
        "backend": change["backend"],
        "settings": json.dumps(change["settings"]),
        "credentials_json": json.dumps(change["credentials"]) if change.get("credentials") is not None else "",
    }
    response = client.post(f"/admin/storage/storageconfig/{active}/change/", form, headers=HOST)
    if response.status_code == 302:
        return True, []
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors, "the admin neither saved nor said why"
    return False, [m for messages in errors.values() for m in messages]


FACES = {"api": through_api, "admin": through_admin}


def active_target() -> tuple:
    config = storage_config_active()
    return config.pk, config.backend, config.settings, config.credentials


def outcome(face: str, client: Client, change: dict) -> Outcome:
    """What the change does through ``face``, undone afterwards (a savepoint), so the other face
    starts from the same target."""
    with tenant_context(client.tenant):
        last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    savepoint = transaction.savepoint()
    try:
        changed, reasons = FACES[face](client, change)
        with tenant_context(client.tenant):
            events = list(
                AuditEvent.objects.filter(id__gt=last_event)
                .order_by("id")
                .values("action", "object_type", "object_id", "object_name", "changes", "channel", "actor_name")
            )
            return Outcome(changed, reasons, active_target(), events)
    finally:
        transaction.savepoint_rollback(savepoint)


def stored_vault(tenant, url: str, **settings) -> None:
    """The tenant publishes to a Vault at ``url`` with a stored token (saved untested)."""
    with tenant_context(tenant):
        storage_config_set(
            actor=SETUP,
            backend="hashicorp_vault",
            settings={"url": url, **settings},
            credentials={"token": STORED_TOKEN},
            test=False,
        )


def test_a_new_vault_target_is_the_same_change_through_both_faces(admin, bao):
    change = {"backend": "hashicorp_vault", "settings": {"url": bao.url}, "credentials": {"token": bao.root_token}}
    api, through_the_admin = outcome("api", admin, change), outcome("admin", admin, change)
    for seen in (api, through_the_admin):
        assert seen.changed and seen.reasons == []
        assert seen.active[1:] == ("hashicorp_vault", {"url": bao.url}, {"token": bao.root_token})
        [event] = seen.events
        assert event["action"] == "storage_config.updated" and event["object_type"] == "storage_config"
        assert event["object_id"] == str(seen.active[0]) and bao.url in event["object_name"]
        assert event["changes"] == {
            "backend": ["local_filesystem", "hashicorp_vault"],
            "settings": [{}, {"url": bao.url}],
            "credentials": "changed",
        }
        assert event["actor_name"] == TENANT_A["admin_email"]
        assert bao.root_token not in json.dumps(event)
    assert (api.events[0]["channel"], through_the_admin.events[0]["channel"]) == ("api", "admin")
    assert same(api, through_the_admin)


def test_changing_only_the_timeout_keeps_the_stored_token_through_both_faces(admin, bao):
    with tenant_context(admin.tenant):
        storage_config_set(
            actor=SETUP, backend="hashicorp_vault", settings={"url": bao.url}, credentials={"token": bao.root_token}
        )
    change = {"backend": "hashicorp_vault", "settings": {"url": bao.url, "timeout": 7}}  # no credentials given
    api, through_the_admin = outcome("api", admin, change), outcome("admin", admin, change)
    for seen in (api, through_the_admin):
        assert seen.changed
        assert seen.active[3] == {"token": bao.root_token}
        [event] = seen.events
        assert event["changes"] == {"settings": [{"url": bao.url}, {"url": bao.url, "timeout": 7}]}
    assert same(api, through_the_admin)


def test_going_back_to_the_local_filesystem_is_the_same_change_through_both_faces(admin):
    stored_vault(admin.tenant, "http://127.0.0.1:9")
    change = {"backend": "local_filesystem", "settings": {}}
    api, through_the_admin = outcome("api", admin, change), outcome("admin", admin, change)
    for seen in (api, through_the_admin):
        assert seen.changed and seen.active[1:] == ("local_filesystem", {}, {})
        [event] = seen.events
        assert event["changes"]["backend"] == ["hashicorp_vault", "local_filesystem"]
        assert event["changes"]["credentials"] == "changed"
        assert STORED_TOKEN not in json.dumps(event)
    assert same(api, through_the_admin)


def vault(settings: dict, token: str | None = GIVEN_TOKEN) -> dict:
    change = {"backend": "hashicorp_vault", "settings": settings}
    return {**change, "credentials": {"token": token}} if token else change


REFUSED = {
    "private-address": (vault({"url": "http://10.1.2.3:8200"}), "which the platform does not connect to for tenants"),
    "metadata-address": (vault({"url": "http://169.254.169.254/"}), "which the platform does not connect to"),
    "unknown-setting": (vault({"url": "http://127.0.0.1:9", "colour": "red"}, None), "has no setting 'colour'"),
    "missing-setting": (vault({}), "needs 'url'"),
    "unreachable": (vault({"url": "http://127.0.0.1:9"}), "could not be reached"),
    "new-address-without-the-token": (vault({"url": "http://127.0.0.1:10", "timeout": 2}, None), "give token again"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_change_is_refused_alike_and_changes_and_records_nothing(admin, case):
    stored_vault(admin.tenant, "http://127.0.0.1:9", timeout=2)  # a new address must not take the token along
    change, reason = REFUSED[case]
    with tenant_context(admin.tenant):
        before, rows = active_target(), StorageConfig.objects.count()
    api, through_the_admin = outcome("api", admin, change), outcome("admin", admin, change)
    for seen in (api, through_the_admin):
        assert not seen.changed and seen.events == []
        assert seen.active == before
        assert any(reason in said for said in seen.reasons), seen.reasons
        assert not any(STORED_TOKEN in said or GIVEN_TOKEN in said for said in seen.reasons)
    # The admin says each of the API's reasons (a failed connection test introduced as such).
    for said in api.reasons:
        assert any(said in shown for shown in through_the_admin.reasons), (said, through_the_admin.reasons)
    with tenant_context(admin.tenant):
        assert StorageConfig.objects.count() == rows


def same(first: Outcome, second: Outcome) -> bool:
    """Same change, target and event, apart from which row was made and through which face."""

    def comparable(seen: Outcome):
        events = [{k: v for k, v in e.items() if k not in ("object_id", "channel")} for e in seen.events]
        return seen.changed, seen.reasons, seen.active[1:], events

    return comparable(first) == comparable(second)
