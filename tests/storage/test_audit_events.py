"""What is done to a tenant's storage target is in its audit log, through every face: a connection test
with its result, a migration with its counts, a resync; never a credential."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from apps.storage.models import StorageConfig
from apps.storage.services import publication_publish, publication_request, storage_config_active, storage_config_set
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import issued_version

HOST = {"host": TENANT_A["domain"]}
TOKEN = "hvs.STORED-TOKEN-MARKER"


@pytest.fixture(autouse=True)
def _storage_root(tmp_path, settings):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"


def events_after(last: int, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=last, action=action).order_by("id"))


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def run(*argv) -> str:
    out = StringIO()
    call_command("storage", *argv, stdout=out, stderr=out)
    return out.getvalue()


def test_each_connection_test_is_recorded_with_its_result_and_its_face(tenant_a, client):
    # The tenant's admin, signed in: the same session uses the API (/api/) and the admin (/admin/).
    client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    with tenant_context(tenant_a):
        local, start = storage_config_active(), last_event_id()
    assert client.post("/api/storage/test", headers=HOST).status_code == 200
    with tenant_context(tenant_a):
        [worked] = events_after(start, "storage_config.tested")
        vault = storage_config_set(
            actor=Actor.system("tests"),
            backend="hashicorp_vault",
            settings={"url": "http://127.0.0.1:9", "timeout": 2},
            credentials={"token": TOKEN},
            test=False,
        )
    assert (worked.channel, worked.actor_name, worked.object_id) == ("api", TENANT_A["admin_email"], str(local.pk))
    assert worked.changes["last_test_error"] == ["", ""] and worked.changes["last_test_at"][0] is None

    assert client.post("/api/storage/test", headers=HOST).status_code == 502
    with pytest.raises(CommandError, match="could not be reached"):
        run("test", "--tenant", "alpha")
    action = {"action": "test_connection", "_selected_action": [vault.pk]}
    page = client.post("/admin/storage/storageconfig/", action, headers=HOST, follow=True).content.decode()
    assert "could not be reached" in page

    with tenant_context(tenant_a):
        failed = events_after(worked.pk, "storage_config.tested")
        vault.refresh_from_db()
    assert [e.channel for e in failed] == ["api", "command", "admin"]
    assert {e.object_id for e in failed} == {str(vault.pk)}
    first_error = failed[0].changes["last_test_error"]
    assert first_error[0] == "" and "could not be reached" in first_error[1]
    assert failed[-1].changes["last_test_error"][0] == first_error[1]  # each test follows the one before
    assert vault.last_test_error == first_error[1]
    assert all(TOKEN not in json.dumps(e.changes) + e.object_name for e in failed)


def test_a_resync_is_recorded_with_what_it_did(tenant_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a):
        with django_capture_on_commit_callbacks(execute=False):
            issued_version("resync.alpha.test")
        start = last_event_id()
    assert run("resync", "--tenant", "alpha").startswith("alpha: 1 checked, 1 published, 0 failed")
    with tenant_context(tenant_a):
        [event] = events_after(start, "storage.resynced")
        assert event.object_id == str(storage_config_active().pk)
    assert (event.channel, event.actor_type) == ("command", "system")
    assert event.changes == {"checked": 1, "published": 1, "failed": 0}


def test_a_migration_is_recorded_once_with_its_counts_and_a_refused_one_not_at_all(
    tenant_a, bao, tmp_path, django_capture_on_commit_callbacks
):
    with tenant_context(tenant_a):
        with django_capture_on_commit_callbacks(execute=False):
            for name in ("one.mig.alpha.test", "two.mig.alpha.test"):
                publication_publish(publication_id=publication_request(version=issued_version(name)).pk)
        start = last_event_id()
    with pytest.raises(CommandError, match="already publishes"):
        run("migrate", "--tenant", "alpha", "--to", "local_filesystem")
    credentials = tmp_path / "vault.json"
    credentials.write_text(json.dumps({"token": bao.root_token}))
    argv = ["--to", "hashicorp_vault", "--setting", f"url={bao.url}", "--credentials-file", str(credentials)]
    assert "2 copied, 2 verified" in run("migrate", "--tenant", "alpha", *argv)
    with tenant_context(tenant_a):
        [event] = events_after(start, "storage.migrated")
        active = storage_config_active()
        assert StorageConfig.objects.filter(pk=int(event.object_id), is_active=True).exists()
    assert event.object_id == str(active.pk) and event.channel == "command"
    assert event.changes["backend"] == ["local_filesystem", "hashicorp_vault"]
    assert event.changes["settings"] == [{}, {"url": bao.url}]
    assert event.changes["credentials"] == "changed"
    assert (event.changes["copied"], event.changes["verified"]) == (2, 2)
    assert event.changes["target"][0].startswith("Local filesystem") and bao.url in event.changes["target"][1]
    assert bao.root_token not in json.dumps(event.changes) + event.object_name
