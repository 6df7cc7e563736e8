"""The Azure Key Vault backend through the real SDK (azure-keyvault-secrets, azure-identity) against FakeKeyVault."""

from __future__ import annotations

import re
import socket

import pytest
from azure.identity import DefaultAzureCredential

from apps.storage.backends.azure import MAX_NAME, AzureKeyVaultBackend, secret_name
from apps.storage.backends.base import StorageError, StoredItem
from tests.storage.contract import check_contract, sample_bundle
from tests.storage.fakes import FakeKeyVault


@pytest.fixture(scope="module")
def vault():
    # A page of two secrets, so listing follows nextLink as it does past 25 secrets in a real vault.
    with FakeKeyVault(page_size=2) as fake, pytest.MonkeyPatch.context() as patch:
        # requests (under azure-core) trusts the CA that REQUESTS_CA_BUNDLE names, as for a TLS-inspecting proxy.
        patch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_path))
        yield fake


def make(
    vault: FakeKeyVault, tenant: str = "alpha", credentials: dict | None = None, **settings
) -> AzureKeyVaultBackend:
    return AzureKeyVaultBackend(
        tenant=tenant,
        settings={"vault_url": vault.url, "authority_host": vault.url, **settings},
        credentials=credentials
        if credentials is not None
        else {"tenant_id": vault.tenant_id, "client_id": vault.client_id, "client_secret": vault.client_secret},
    )


def test_contract(vault):
    check_contract(lambda tenant: make(vault, tenant))


def test_a_second_prefix_in_the_same_vault_sees_nothing_of_the_first(vault):
    make(vault, "shared").store(sample_bundle("www.example.com"))
    assert make(vault, "shared", prefix="other").list() == []
    assert make(vault, "shared", prefix="other").read("server", "www.example.com") is None
    make(vault, "shared").delete("server", "www.example.com")


# --- names --------------------------------------------------------------------------------------------------------


def test_names_are_readable_while_they_fit():
    assert secret_name("certmate", "alpha", "server", "*.example.com") == "certmate-alpha-s--2a-2eexample-2ecom"
    assert secret_name("certmate", "alpha_eu", "client", "dev-1") == "certmate-alpha-5feu-c-dev-2d1"


def test_names_never_collide():
    tricky = [
        ("alpha", "server", "a-b.example.com"),
        ("alpha", "server", "a.b.example.com"),
        ("alpha", "server", "a_b.example.com"),
        ("alpha", "server", "ab.example.com"),
        ("alpha", "client", "a-b.example.com"),
        ("alpha", "client", "Device-A"),  # Key Vault names ignore case: upper case is escaped
        ("alpha", "client", "device-a"),
        ("alpha_", "server", "x"),  # underscore in the tenant against a dash in the identifier
        ("alpha", "server", "_x"),
        ("alpha", "server", "-5fx"),
        ("a", "server", "s-x"),
        ("a", "client", "x"),
        ("a_s", "server", "x"),
        ("alpha", "server", "é.example.com"),
        ("alpha", "server", "*.example.com"),
        ("alpha", "server", "_2a.example.com"),
    ]
    names = [secret_name("certmate", *case) for case in tricky]
    assert len(set(names)) == len(tricky)
    assert all(re.fullmatch(r"[a-z0-9-]{1,127}", name) for name in names)


def test_long_identifiers_are_hashed_within_the_limit():
    long_a = "a" * 60 + "." + "b" * 60 + ".example.com"
    long_b = "a" * 60 + "." + "b" * 60 + ".example.org"
    name_a, name_b = (secret_name("certmate", "alpha", "server", i) for i in (long_a, long_b))
    assert name_a != name_b
    assert len(name_a) <= MAX_NAME and re.fullmatch(r"certmate-h-[a-z2-7]{52}", name_a)
    # The hashed form has two dashes and a readable one at least three, so they never meet.
    assert secret_name("certmate", "alpha", "client", long_a) != name_a
    assert secret_name("certmate", "beta", "server", long_a) != name_a


def test_a_hashed_name_reads_and_lists_by_its_identifier(vault):
    backend = make(vault, "longnames")
    identifier = "CN=" + "Ünïcode Device " * 10 + "#42"  # a client certificate's subject, far past 127 characters
    bundle = sample_bundle(identifier, 3, kind="client")
    backend.store(bundle)
    assert backend.read("client", identifier) == bundle
    assert backend.list() == [StoredItem("client", identifier, 3)]
    backend.delete("client", identifier)
    assert backend.list() == []


# --- versions and soft-delete -------------------------------------------------------------------------------------


def test_storing_the_same_bundle_again_adds_no_key_vault_version(vault):
    backend = make(vault, "idempotent")
    backend.store(sample_bundle("www.example.com", 1))
    backend.store(sample_bundle("www.example.com", 1))
    name = secret_name("certmate", "idempotent", "server", "www.example.com")
    assert len(vault.secrets[name]["versions"]) == 1
    backend.delete("server", "www.example.com")


def test_a_soft_deleted_name_is_purged_before_storing_again(vault):
    backend = make(vault, "softdelete")
    backend.store(sample_bundle("www.example.com", 1))
    name = secret_name("certmate", "softdelete", "server", "www.example.com")
    backend._client.begin_delete_secret(name).wait()  # deleted by someone else, not purged
    assert name in vault.deleted
    assert backend.read("server", "www.example.com") is None

    backend.store(sample_bundle("www.example.com", 2))
    assert backend.read("server", "www.example.com") == sample_bundle("www.example.com", 2)
    assert backend.read("server", "www.example.com", version=1) is None  # purged with the old secret
    backend.delete("server", "www.example.com")


def test_with_purge_protection_a_deleted_name_is_recovered_then_stored(vault):
    backend = make(vault, "protected")
    name = secret_name("certmate", "protected", "server", "www.example.com")
    vault.purge_protection = True
    try:
        backend.store(sample_bundle("www.example.com", 1))
        backend.delete("server", "www.example.com")  # purge refused: the secret stays soft-deleted
        assert name in vault.deleted
        assert backend.read("server", "www.example.com") is None

        backend.store(sample_bundle("www.example.com", 2))
        assert backend.read("server", "www.example.com") == sample_bundle("www.example.com", 2)
        assert backend.list() == [StoredItem("server", "www.example.com", 2)]
    finally:
        vault.purge_protection = False
        backend.delete("server", "www.example.com")
    assert name not in vault.secrets and name not in vault.deleted


# --- failures -----------------------------------------------------------------------------------------------------


def test_a_wrong_client_secret_is_permanent_and_not_echoed(vault):
    wrong = "not-the-Secret~value.123"
    backend = make(
        vault, credentials={"tenant_id": vault.tenant_id, "client_id": vault.client_id, "client_secret": wrong}
    )
    with pytest.raises(StorageError) as caught:
        backend.test_connection()
    assert caught.value.transient is False
    assert "AADSTS7000215" in caught.value.reason
    assert wrong not in str(caught.value) and vault.client_secret not in str(caught.value)


def test_a_wrong_client_id_is_permanent(vault):
    backend = make(vault, credentials={"tenant_id": vault.tenant_id, "client_id": "nobody", "client_secret": "x"})
    with pytest.raises(StorageError) as caught:
        backend.read("server", "www.example.com")
    assert caught.value.transient is False


def test_half_the_credentials_is_refused_before_any_request(vault):
    with pytest.raises(StorageError, match="together") as caught:
        make(vault, credentials={"client_id": vault.client_id}).test_connection()
    assert caught.value.transient is False


def test_without_credentials_the_managed_identity_is_used(vault):
    # Only built, never asked for a token: it would try the instance metadata service, off this machine.
    assert isinstance(make(vault, credentials={})._credential(), DefaultAzureCredential)


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"vault_url": "http://127.0.0.1:1"}, "https"), ({"prefix": "Cert-Mate"}, "prefix")],
)
def test_bad_settings_are_permanent(vault, settings, message):
    with pytest.raises(StorageError, match=message) as caught:
        make(vault, **settings).test_connection()
    assert caught.value.transient is False


def test_a_vault_that_is_down_is_transient(vault):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StorageError) as caught:
        make(vault, vault_url=f"https://127.0.0.1:{port}").read("server", "www.example.com")
    assert caught.value.transient is True


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_and_outages_are_transient(vault, status):
    backend = make(vault, "outage")
    backend.test_connection()
    vault.failing_with = status
    try:
        with pytest.raises(StorageError) as caught:
            backend.store(sample_bundle("www.example.com"))
    finally:
        vault.failing_with = None
    assert caught.value.transient is True
    assert backend.read("server", "www.example.com") is None
