"""CertMate's /api/backups on tenant hosts: CertMate's shapes, admins only, each tenant its own backups."""

from __future__ import annotations

import io

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from apps.backups.crypto import MAGIC
from apps.backups.services import tenant_import
from apps.certificates.models import Certificate
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_verify
from certmate.locks import BACKUP, session_lock
from tests.backups.conftest import PASSPHRASE
from tests.factories import TEST_ACTOR


def created(client, **body) -> str:
    answer = client.post("/api/backups/create", body, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()["backups"][0]["filename"]


def actions(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(object_type="backup").order_by("id").values_list("action", flat=True))


def test_create_list_download_delete_in_certmate_shapes(filled_a, tenant_a, api_client):
    admin = api_client(tenant_a)
    answer = admin.post("/api/backups/create", {"reason": "Before the upgrade!"}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    filename = body["backups"][0]["filename"]
    assert body == {
        "message": "Backup created successfully",
        "backups": [{"type": "unified", "filename": filename}],
        "secrets_masked": False,
        "recommendation": None,
    }
    assert filename.startswith("backup_") and filename.endswith("_before_the_upgrade.tar.gz.enc")

    listed = admin.get("/api/backups").json()
    assert [entry["filename"] for entry in listed["unified"]] == [filename]
    metadata = listed["unified"][0]["metadata"]
    assert metadata["type"] == "unified" and metadata["encrypted"] is True and metadata["size"] > 0
    assert metadata["backup_reason"] == "before_the_upgrade" and metadata["tenant"] == "alpha"
    assert metadata["key"] == "platform" and metadata["rows"] > 0

    download = admin.get(f"/api/backups/download/unified/{filename}")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    archive = b"".join(download.streaming_content)
    assert archive.startswith(MAGIC)
    tenant_import(source=io.BytesIO(archive), slug="gamma", actor=TEST_ACTOR)  # a real, restorable archive
    with tenant_context(Tenant.objects.get(schema_name="gamma")):
        assert Certificate.objects.count() == 2

    deleted = admin.delete(f"/api/backups/delete/unified/{filename}")
    assert deleted.json() == {
        "message": f"Backup {filename} deleted successfully",
        "deleted_file": filename,
        "backup_type": "unified",
    }
    assert admin.get("/api/backups").json() == {"unified": []}
    assert admin.delete(f"/api/backups/delete/unified/{filename}").status_code == 404
    assert actions(tenant_a) == ["backup.created", "backup.downloaded", "backup.deleted"]


def test_restore_puts_the_tenant_back_and_keeps_the_present_first(filled_a, tenant_a, api_client):
    admin = api_client(tenant_a)
    filename = created(admin)
    with tenant_context(tenant_a):
        Certificate.objects.filter(identifier="www.alpha.test").delete()
    answer = admin.post("/api/backups/restore/unified", {"filename": filename}, format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["message"] == f"Settings and certificates restored atomically successfully from {filename}"
    assert body["restored_from"] == filename and body["backup_type"] == "unified"
    assert body["pre_restore_backup"].endswith("_pre_restore.tar.gz.enc")
    assert body["note"] == "A backup of the previous state was created before restore"
    with tenant_context(tenant_a):
        assert sorted(Certificate.objects.values_list("identifier", flat=True)) == ["api.alpha.test", "www.alpha.test"]
        assert audit_verify().ok
        assert AuditEvent.objects.order_by("-id").first().action == "backup.restored"
    files = [entry["filename"] for entry in admin.get("/api/backups").json()["unified"]]
    assert sorted(files) == sorted([filename, body["pre_restore_backup"]])


def test_a_restore_in_place_never_rewinds_the_audit_log(filled_a, tenant_a, api_client):
    """A tenant admin who acts after a backup, then restores it without keeping the present, still finds
    what was done on record: the log is the live chain with the restore appended, never the archive's."""
    admin = api_client(tenant_a)
    filename = created(admin)
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="www.alpha.test")
    assert admin.delete(f"/api/certificates/{certificate.identifier}").status_code in (200, 204)
    with tenant_context(tenant_a):
        since = list(AuditEvent.objects.order_by("id").values_list("id", "action", "hash"))
    assert any(action == "certificate.deleted" for _, action, _ in since)
    body = {"filename": filename, "create_backup_before_restore": False}
    assert admin.post("/api/backups/restore/unified", body, format="json").status_code == 200
    with tenant_context(tenant_a):
        after = list(AuditEvent.objects.order_by("id").values_list("id", "action", "hash"))
        assert after[: len(since)] == since and after[-1][1] == "backup.restored"
        assert audit_verify().ok
        assert Certificate.objects.filter(identifier="www.alpha.test").exists()  # the rows came back


def test_passphrase_backup_restores_with_it_only(filled_a, tenant_a, api_client):
    admin = api_client(tenant_a)
    filename = created(admin, passphrase=PASSPHRASE)
    assert admin.get("/api/backups").json()["unified"][0]["metadata"]["key"] == "passphrase"
    wrong = admin.post(
        "/api/backups/restore/unified",
        {"filename": filename, "passphrase": "another passphrase"},
        format="json",
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_key"
    assert "wrong passphrase" in wrong.json()["error"]
    assert len(admin.get("/api/backups").json()["unified"]) == 1  # refused before the backup of the present
    right = admin.post(
        "/api/backups/restore/unified",
        {"filename": filename, "passphrase": PASSPHRASE, "create_backup_before_restore": False},
        format="json",
    )
    assert right.status_code == 200, right.content
    assert "pre_restore_backup" not in right.json()


def test_other_tenant_sees_and_reaches_none_of_them(filled_a, tenant_a, tenant_b, api_client):
    filename = created(api_client(tenant_a))
    other = api_client(tenant_b)
    assert other.get("/api/backups").json() == {"unified": []}
    assert other.get(f"/api/backups/download/unified/{filename}").status_code == 404
    restore = other.post("/api/backups/restore/unified", {"filename": filename}, format="json")
    assert restore.status_code == 404
    assert other.delete(f"/api/backups/delete/unified/{filename}").status_code == 404
    assert [e["filename"] for e in api_client(tenant_a).get("/api/backups").json()["unified"]] == [filename]
    with tenant_context(tenant_b):
        assert not Certificate.objects.exists()


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_only_admins(filled_a, tenant_a, api_client, anon_client, role):
    filename = created(api_client(tenant_a))
    client = api_client(tenant_a, role)
    assert client.get("/api/backups").status_code == 403
    assert client.post("/api/backups/create", {}, format="json").status_code == 403
    assert client.get(f"/api/backups/download/unified/{filename}").status_code == 403
    assert client.post("/api/backups/restore/unified", {"filename": filename}, format="json").status_code == 403
    assert client.delete(f"/api/backups/delete/unified/{filename}").status_code == 403
    assert anon_client(tenant_a).get("/api/backups").status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/backups/download/unified/..%2F..%2Fetc%2Fpasswd", None),
        ("get", "/api/backups/download/unified/backup_1.zip", None),
        ("get", "/api/backups/download/settings/backup_20260101_120000_000000_manual.tar.gz.enc", None),
        ("post", "/api/backups/restore/unified", {}),
        ("post", "/api/backups/restore/unified", {"filename": "../beta/backup_20260101_120000_000000_x.tar.gz.enc"}),
        ("post", "/api/backups/restore/settings", {"filename": "backup_20260101_120000_000000_x.tar.gz.enc"}),
        ("post", "/api/backups/create", {"passphrase": "short"}),
        ("post", "/api/backups/create", {"type": "everything"}),
        ("delete", "/api/backups/delete/unified/backup_x.tar.gz.enc", None),
    ],
)
def test_bad_input_is_4xx(tenant_a, api_client, method, path, body):
    answer = (
        getattr(api_client(tenant_a), method)(path, body, format="json")
        if body is not None
        else getattr(api_client(tenant_a), method)(path)
    )
    assert 400 <= answer.status_code < 500, answer.content
    assert set(answer.json()) >= {"error", "code"}


def test_kept_backups_are_bounded(filled_a, tenant_a, api_client, settings):
    settings.CERTMATE_BACKUPS_KEPT = 2
    admin = api_client(tenant_a)
    names = [created(admin, reason=f"r{n}") for n in range(3)]
    assert [entry["filename"] for entry in admin.get("/api/backups").json()["unified"]] == names[1:]


def test_one_backup_or_restore_of_a_tenant_at_a_time(filled_a, tenant_a, tenant_b, api_client):
    admin = api_client(tenant_a)
    filename = created(admin)
    with tenant_context(tenant_a), session_lock(BACKUP, "kept backups") as taken:  # one is running
        assert taken
        busy = admin.post("/api/backups/create", {}, format="json")
        assert busy.status_code == 409 and busy.json()["code"] == "in_use"
        busy = admin.post("/api/backups/restore/unified", {"filename": filename}, format="json")
        assert busy.status_code == 409
        assert created(api_client(tenant_b))  # another tenant is not held up
    assert len(admin.get("/api/backups").json()["unified"]) == 1
