"""A stored secret never follows a changed address: changing where a storage target's credentials go
(Vault url, namespace or TLS trust, AWS endpoint or region, Azure vault or authority, Infisical site)
needs the credentials again, through the API and the admin, and the new host hears nothing."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.storage.models import StorageConfig
from apps.storage.services import storage_config_active, storage_config_set
from certmate.actors import Actor
from tests.conftest import PASSWORD, TENANT_A
from tests.storage.fakes import Listener

ACTOR = Actor.system("tests")

TOKEN_A, TOKEN_B = "hvs.TENANT-A-SECRET", "hvs.TENANT-B-SECRET"
DOWN = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _storage_root(tmp_path, settings):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"


@pytest.fixture
def vaults(tenant_a, tenant_b):
    """Both tenants publish to a Vault with their own stored token (saved untested: it is down)."""
    for tenant, token in ((tenant_a, TOKEN_A), (tenant_b, TOKEN_B)):
        with tenant_context(tenant):
            storage_config_set(
                actor=ACTOR,
                backend="hashicorp_vault",
                settings={"url": DOWN, "timeout": 2},
                credentials={"token": token},
                test=False,
            )


@pytest.fixture
def listener():
    with Listener() as server:
        yield server


def _active(tenant) -> StorageConfig:
    with tenant_context(tenant):
        return storage_config_active()


def test_api_refuses_a_new_vault_url_without_the_token(vaults, tenant_a, tenant_b, api_client, listener):
    client = api_client(tenant_a)
    moved = {"backend": "hashicorp_vault", "settings": {"url": listener.url, "timeout": 2}}
    response = client.put("/api/storage", moved, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "credentials_required"
    assert "url" in body["error"] and "token" in body["fields"]["credentials"][0]
    assert listener.requests == []  # the stored token went nowhere
    assert _active(tenant_a).settings["url"] == DOWN and _active(tenant_b).credentials == {"token": TOKEN_B}


def test_api_takes_the_new_vault_url_with_the_token_given_again(vaults, tenant_a, tenant_b, api_client, listener):
    client = api_client(tenant_a)
    moved = {"backend": "hashicorp_vault", "settings": {"url": listener.url}, "credentials": {"token": "hvs.NEW"}}
    assert client.put("/api/storage", {**moved, "test": False}, format="json").status_code == 200
    assert _active(tenant_a).credentials == {"token": "hvs.NEW"} and _active(tenant_a).settings["url"] == listener.url
    assert _active(tenant_b).settings["url"] == DOWN  # the other tenant's target is its own


@pytest.mark.parametrize(
    "change",
    [{"namespace": "other"}, {"verify_tls": False}, {"ca_bundle": "-----BEGIN CERTIFICATE-----\nMII\n"}],
    ids=["namespace", "verify_tls", "ca_bundle"],
)
def test_api_refuses_other_destination_changes_without_the_token(vaults, tenant_a, api_client, change):
    given = {"backend": "hashicorp_vault", "settings": {"url": DOWN, "timeout": 2, **change}, "test": False}
    response = api_client(tenant_a).put("/api/storage", given, format="json")
    assert response.status_code == 400 and response.json()["code"] == "credentials_required"
    assert next(iter(change)) in response.json()["error"]


def test_api_keeps_the_token_when_only_the_timeout_changes(vaults, tenant_a, api_client):
    given = {"backend": "hashicorp_vault", "settings": {"url": DOWN + "/", "timeout": 3}, "test": False}
    assert api_client(tenant_a).put("/api/storage", given, format="json").status_code == 200
    assert _active(tenant_a).credentials == {"token": TOKEN_A} and _active(tenant_a).settings["timeout"] == 3


@pytest.mark.parametrize(
    ("backend", "before", "after", "credentials"),
    [
        (
            "aws_secrets_manager",
            {"region": "eu-west-1"},
            {"region": "eu-west-1", "endpoint_url": "https://elsewhere.example"},
            {"access_key_id": "AKIA", "secret_access_key": "S3CRET"},
        ),
        (
            "aws_secrets_manager",
            {"region": "eu-west-1"},
            {"region": "us-east-1"},
            {"access_key_id": "AKIA", "secret_access_key": "S3CRET"},
        ),
        (
            "azure_keyvault",
            {"vault_url": "https://a.vault.azure.net"},
            {"vault_url": "https://b.vault.azure.net"},
            {"tenant_id": "t", "client_id": "c", "client_secret": "S3CRET"},
        ),
        (
            "azure_keyvault",
            {"vault_url": "https://a.vault.azure.net"},
            {"vault_url": "https://a.vault.azure.net", "authority_host": "https://login.example"},
            {"tenant_id": "t", "client_id": "c", "client_secret": "S3CRET"},
        ),
        (
            "infisical",
            {"project_id": "p"},
            {"project_id": "p", "site_url": "https://elsewhere.example"},
            {"token": "T"},
        ),
    ],
    ids=["aws-endpoint", "aws-region", "azure-vault", "azure-authority", "infisical-site"],
)
def test_every_backend_needs_its_credentials_again_for_a_new_destination(
    tenant_a, tenant_b, backend, before, after, credentials
):
    with tenant_context(tenant_a):
        storage_config_set(actor=ACTOR, backend=backend, settings=before, credentials=credentials, test=False)
        with pytest.raises(ValidationError) as refused:
            storage_config_set(actor=ACTOR, backend=backend, settings=after, test=False)
        assert [e.code for e in refused.value.error_dict["credentials"]] == ["credentials_required"]
        assert storage_config_active().settings == before
        storage_config_set(actor=ACTOR, backend=backend, settings=after, credentials=credentials, test=False)
        assert storage_config_active().settings == after
    with tenant_context(tenant_b):
        assert storage_config_active().backend == "local_filesystem"


@pytest.fixture
def admin_client(client, tenant_a):
    response = client.post(
        "/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers={"host": "alpha.test"}
    )
    assert response.status_code == 302
    return client


def test_admin_form_refuses_a_new_vault_url_without_the_token(vaults, tenant_a, tenant_b, admin_client, listener):
    config = _active(tenant_a)
    form = {"backend": "hashicorp_vault", "settings": json.dumps({"url": listener.url}), "credentials_json": ""}
    response = admin_client.post(
        f"/admin/storage/storageconfig/{config.pk}/change/", form, headers={"host": "alpha.test"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "give token again" in page
    assert TOKEN_A not in page and TOKEN_B not in page
    assert listener.requests == []
    assert _active(tenant_a).settings["url"] == DOWN and _active(tenant_b).settings["url"] == DOWN
    # Given again, the token goes to the new url (which refuses it here: the connection test says so).
    form["credentials_json"] = json.dumps({"token": "hvs.NEW"})
    retried = admin_client.post(
        f"/admin/storage/storageconfig/{config.pk}/change/", form, headers={"host": "alpha.test"}
    )
    assert "connection test failed" in retried.content.decode() and listener.heard("hvs.NEW")
    assert not listener.heard(TOKEN_A)


def test_the_other_tenants_client_cannot_touch_this_target(vaults, tenant_b, api_client):
    # Tenant B's admin moving B's target is judged on B's stored token, never A's.
    client = api_client(tenant_b)
    moved = {"backend": "hashicorp_vault", "settings": {"url": "http://127.0.0.1:10"}, "test": False}
    assert client.put("/api/storage", moved, format="json").json()["code"] == "credentials_required"
