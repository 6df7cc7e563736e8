"""The Infisical backend through the real SDK (infisicalsdk) against FakeInfisical."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest
from infisical_sdk import infisical_requests

from apps.storage.backends.base import StorageError, StoredItem
from apps.storage.backends.infisical import InfisicalBackend
from tests.storage.contract import check_contract, sample_bundle
from tests.storage.fakes import FakeInfisical


@pytest.fixture(scope="module")
def infisical():
    with FakeInfisical() as fake:
        yield fake


def make(
    infisical: FakeInfisical, tenant: str = "alpha", credentials: dict | None = None, **settings
) -> InfisicalBackend:
    return InfisicalBackend(
        tenant=tenant,
        settings={"site_url": infisical.url, "project_id": infisical.project_id, **settings},
        credentials=credentials
        if credentials is not None
        else {"client_id": infisical.client_id, "client_secret": infisical.client_secret},
    )


def test_contract_with_universal_auth(infisical):
    check_contract(lambda tenant: make(infisical, tenant))


def test_contract_with_a_token_in_another_environment_and_path(infisical):
    token = next(iter(infisical.tokens))
    check_contract(lambda tenant: make(infisical, tenant, {"token": token}, environment="dev", path="/pki/certs"))


def test_one_secret_per_certificate_under_tenant_and_kind_folders(infisical):
    backend = make(infisical, "layout")
    bundle = sample_bundle("*.example.com")
    backend.store(bundle)
    stored = infisical.secrets[("prod", "/certmate/layout/server", "_2a.example.com")]
    assert json.loads(stored["value"]) == bundle.files()
    backend.store(bundle)
    assert stored["version"] == 1  # storing the same bundle again changes nothing
    backend.delete("server", "*.example.com")


def test_only_the_current_version_is_read(infisical):
    backend = make(infisical, "versions")
    backend.store(sample_bundle("www.example.com", 1))
    backend.store(sample_bundle("www.example.com", 2))
    assert backend.keeps_versions is False
    assert backend.read("server", "www.example.com", version=2) == sample_bundle("www.example.com", 2)
    assert backend.read("server", "www.example.com", version=1) is None
    backend.delete("server", "www.example.com")


def test_secrets_not_written_by_certmate_are_left_out_of_the_list(infisical):
    backend = make(infisical, "foreign")
    backend.store(sample_bundle("www.example.com"))
    backend._sdk.secrets.create_secret_by_name(
        secret_name="API_KEY",
        secret_path="/certmate/foreign/server",
        secret_value="hunter2",
        project_id=infisical.project_id,
        environment_slug="prod",
    )
    backend._sdk.secrets.create_secret_by_name(
        secret_name=".hidden",  # unescapes, but is not how CertMate writes ".hidden" (_2ehidden)
        secret_path="/certmate/foreign/server",
        secret_value=json.dumps(sample_bundle(".hidden").files()),
        project_id=infisical.project_id,
        environment_slug="prod",
    )
    assert backend.list() == [StoredItem("server", "www.example.com", 1)]
    backend.delete("server", "www.example.com")


# --- failures -----------------------------------------------------------------------------------------------------


def test_a_wrong_client_secret_is_permanent_and_not_echoed(infisical):
    wrong = "not-the-Secret~value.123"
    backend = make(infisical, credentials={"client_id": infisical.client_id, "client_secret": wrong})
    with pytest.raises(StorageError) as caught:
        backend.store(sample_bundle("www.example.com"))
    assert caught.value.transient is False
    assert "Invalid credentials" in caught.value.reason
    assert wrong not in str(caught.value) and infisical.client_secret not in str(caught.value)


def test_a_wrong_token_is_permanent_and_not_echoed(infisical):
    with pytest.raises(StorageError) as caught:
        make(infisical, credentials={"token": "st.forged-token"}).read("server", "www.example.com")
    assert caught.value.transient is False
    assert "st.forged-token" not in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"project_id": "another-project"}, "not allowed"),
        ({"environment": "staging"}, "Environment with slug 'staging' not found"),
    ],
)
def test_test_connection_reports_a_project_or_environment_out_of_reach(infisical, settings, message):
    with pytest.raises(StorageError, match=message) as caught:
        make(infisical, **settings).test_connection()
    assert caught.value.transient is False


@pytest.mark.parametrize(
    ("settings", "credentials", "message"),
    [
        ({"site_url": "http://infisical.example.com"}, None, "https"),
        ({"path": "/cert mate"}, None, "path"),
        ({}, {"client_id": "only-the-id"}, "client_id and client_secret"),
    ],
)
def test_bad_settings_are_permanent(infisical, settings, credentials, message):
    with pytest.raises(StorageError, match=message) as caught:
        make(infisical, credentials=credentials, **settings).store(sample_bundle("www.example.com"))
    assert caught.value.transient is False


def test_an_identifier_too_long_for_a_key_is_refused(infisical):
    with pytest.raises(StorageError, match="too long") as caught:
        make(infisical).store(sample_bundle("Ü" * 126, kind="client"))  # 252 bytes, each escaped to 3 characters
    assert caught.value.transient is False


def test_a_server_that_is_down_is_transient(infisical, monkeypatch):
    # The SDK retries a refused connection with 1, 2, 4 and 8 second sleeps; record them instead of waiting.
    sleeps: list[float] = []
    monkeypatch.setattr(infisical_requests, "time", SimpleNamespace(sleep=sleeps.append))
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StorageError) as caught:
        make(infisical, site_url=f"http://127.0.0.1:{port}").read("server", "www.example.com")
    assert caught.value.transient is True
    assert len(sleeps) == 4
