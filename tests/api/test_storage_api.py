"""/api/storage: admin only, credentials never returned, unreachable targets refused, tenants apart."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.storage.models import StorageConfig
from apps.storage.services import publication_request
from tests.factories import issued_version

VAULT_DOWN = {"backend": "hashicorp_vault", "settings": {"url": "http://127.0.0.1:9", "timeout": 2}}


@pytest.fixture(autouse=True)
def _storage_root(tmp_path, settings):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/storage"), ("put", "/api/storage"), ("post", "/api/storage/test")],
)
@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("operator", 403), (None, 401)])
def test_storage_configuration_is_for_admins(tenant_a, api_client, anon_client, method, path, role, expected):
    client = api_client(tenant_a, role) if role else anon_client(tenant_a)
    response = getattr(client, method)(path, {"backend": "local_filesystem"}, format="json")
    assert response.status_code == expected
    assert response.json()["code"] in ("permission_denied", "not_authenticated")


def test_admin_reads_the_default_local_target(tenant_a, api_client):
    response = api_client(tenant_a).get("/api/storage")
    assert response.status_code == 200
    body = response.json()
    assert body["backend"] == "local_filesystem" and body["is_active"] is True
    assert "alpha" in body["target"] and body["credentials_set"] == []
    assert body["publications"] == {"pending": 0, "published": 0, "failed": 0, "superseded": 0}


def test_test_connection_of_the_local_target(tenant_a, api_client):
    response = api_client(tenant_a).post("/api/storage/test")
    assert response.status_code == 200 and response.json()["ok"] is True


def test_an_unreachable_target_is_refused_with_the_reason_and_no_secret(tenant_a, api_client):
    client = api_client(tenant_a)
    response = client.put("/api/storage", {**VAULT_DOWN, "credentials": {"token": "hvs.SECRET"}}, format="json")
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "storage_unreachable" and "127.0.0.1:9" in body["error"]
    assert b"hvs.SECRET" not in response.content
    assert client.get("/api/storage").json()["backend"] == "local_filesystem"


def test_a_target_saved_without_test_never_echoes_its_credentials(tenant_a, api_client):
    client = api_client(tenant_a)
    given = {**VAULT_DOWN, "credentials": {"token": "hvs.SECRET"}, "test": False}
    response = client.put("/api/storage", given, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["credentials_set"] == ["token"] and b"hvs.SECRET" not in response.content
    assert b"hvs.SECRET" not in client.get("/api/storage").content
    with tenant_context(tenant_a):
        assert StorageConfig.objects.get(is_active=True).credentials == {"token": "hvs.SECRET"}
    failed = client.post("/api/storage/test")
    assert failed.status_code == 502 and "could not be reached" in failed.json()["error"]


def test_bad_settings_answer_field_errors(tenant_a, api_client):
    response = api_client(tenant_a).put(
        "/api/storage", {"backend": "hashicorp_vault", "settings": {"colour": "red"}}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert "url" in fields and "colour" in fields


def test_publications_are_listed_per_tenant(tenant_a, tenant_b, api_client, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=False):
        publication_request(version=issued_version("pub.alpha.test"))
    listed = api_client(tenant_a, "viewer").get("/api/storage/publications")
    assert listed.status_code == 200
    rows = listed.json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert [(r["identifier"], r["state"], r["version"]) for r in rows] == [("pub.alpha.test", "pending", 1)]
    other = api_client(tenant_b, "admin").get("/api/storage/publications").json()
    assert (other["results"] if isinstance(other, dict) else other) == []


def test_switching_without_credentials_keeps_the_stored_ones(tenant_a, api_client):
    client = api_client(tenant_a)
    given = {**VAULT_DOWN, "credentials": {"token": "hvs.SECRET"}, "test": False}
    assert client.put("/api/storage", given, format="json").status_code == 200
    moved = {**VAULT_DOWN, "settings": {**VAULT_DOWN["settings"], "timeout": 3}, "test": False}
    response = client.put("/api/storage", moved, format="json")
    assert response.status_code == 200 and response.json()["credentials_set"] == ["token"]
    with tenant_context(tenant_a):
        assert StorageConfig.objects.get(is_active=True).credentials == {"token": "hvs.SECRET"}


def test_one_tenants_target_is_not_anothers(tenant_a, tenant_b, api_client):
    given = {**VAULT_DOWN, "credentials": {"token": "hvs.SECRET"}, "test": False}
    assert api_client(tenant_a).put("/api/storage", given, format="json").status_code == 200
    theirs = api_client(tenant_b).get("/api/storage").json()
    assert theirs["backend"] == "local_filesystem" and "beta" in theirs["target"]
