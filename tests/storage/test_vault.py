"""The Vault backend against a real Vault-API server (OpenBao in dev mode): KV v2 and v1, token and
AppRole logins, and the errors an operator sees when Vault refuses or is gone."""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Callable, Iterator

import hvac
import pytest
from urllib3.exceptions import InsecureRequestWarning

from apps.storage.backends.base import StorageError
from apps.storage.backends.vault import VaultBackend
from tests.storage.contract import check_contract, sample_bundle
from tests.storage.servers import Bao
from tests.tools import missing_tool

pytestmark = pytest.mark.tools


def vault(server: Bao, tenant: str = "alpha", *, credentials: dict | None = None, **settings) -> VaultBackend:
    return VaultBackend(
        tenant=tenant,
        settings={"url": server.url, **settings},
        credentials={"token": server.root_token} if credentials is None else credentials,
    )


def root_client(server: Bao) -> hvac.Client:
    return hvac.Client(url=server.url, token=server.root_token)


@pytest.fixture
def own_bao() -> Iterator[Callable[..., Bao]]:
    """Starts servers of the test's own (Bao's options in), for tests that stop, seal or serve HTTPS:
    the session's server is everyone's. All stop when the test ends."""
    reason = Bao.missing_reason()
    if reason:
        missing_tool(reason)
    with contextlib.ExitStack() as started:
        yield lambda **options: started.enter_context(Bao(**options))


@pytest.fixture(scope="module")
def kv1_mount(bao: Bao) -> str:
    mount = f"kv1-{uuid.uuid4().hex[:6]}"
    root_client(bao).sys.enable_secrets_engine("kv", path=mount, options={"version": "1"})
    return mount


def test_contract_on_kv_v2(bao):
    check_contract(lambda tenant: vault(bao, tenant))


def test_contract_on_kv_v1(bao, kv1_mount):
    backend = vault(bao, mount=kv1_mount, kv_version=1)
    assert backend.keeps_versions is False
    check_contract(lambda tenant: vault(bao, tenant, mount=kv1_mount, kv_version="1"))


def test_secret_layout_is_one_secret_per_certificate_with_the_bundle_files(bao):
    tenant = f"t{uuid.uuid4().hex[:8]}"
    bundle = sample_bundle("*.layout.example.com", 1)
    vault(bao, tenant, path_prefix="/team/certmate/").store(bundle)

    stored = root_client(bao).secrets.kv.v2.read_secret_version(
        f"team/certmate/{tenant}/server/_2a.layout.example.com", raise_on_deleted_version=True
    )
    assert stored["data"]["data"] == bundle.files()


def test_storing_the_same_bundle_again_adds_no_kv_version(bao):
    backend = vault(bao, f"t{uuid.uuid4().hex[:8]}")
    identifier = "same.example.com"
    backend.store(sample_bundle(identifier, 1))
    backend.store(sample_bundle(identifier, 1))
    backend.store(sample_bundle(identifier, 2))
    backend.store(sample_bundle(identifier, 2))

    metadata = root_client(bao).secrets.kv.v2.read_secret_metadata(backend._path("server", identifier))
    assert metadata["data"]["current_version"] == 2


def test_read_of_an_earlier_version_skips_versions_deleted_in_vault(bao):
    """Certificate and KV version numbers drift apart when someone edits a secret by hand."""
    backend = vault(bao, f"t{uuid.uuid4().hex[:8]}")
    identifier = "drift.example.com"
    v1, v2 = sample_bundle(identifier, 1), sample_bundle(identifier, 2)
    backend.store(v1)
    backend.store(sample_bundle(identifier, 1, tag="reissued"))  # KV version 2 holds certificate version 1
    backend.store(v2)
    assert backend.read("server", identifier, version=1) == sample_bundle(identifier, 1, tag="reissued")

    kv = root_client(bao).secrets.kv.v2
    kv.delete_secret_versions(backend._path("server", identifier), versions=[2])
    assert backend.read("server", identifier, version=1) == v1
    assert backend.read("server", identifier, version=2) == v2
    assert backend.read("server", identifier, version=3) is None


@pytest.fixture(scope="module")
def approle(bao: Bao) -> dict[str, str]:
    """AppRole credentials whose policy covers CertMate's folder of the secret/ mount and nothing else."""
    client = root_client(bao)
    if "approle/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle")
    client.sys.create_or_update_policy(
        "certmate",
        'path "secret/data/certmate/*" { capabilities = ["create", "read", "update", "delete"] }\n'
        'path "secret/metadata/certmate/*" { capabilities = ["read", "list", "delete"] }\n',
    )
    client.auth.approle.create_or_update_approle("certmate", token_policies=["certmate"], token_ttl="10m")
    return {
        "role_id": client.auth.approle.read_role_id("certmate")["data"]["role_id"],
        "secret_id": client.auth.approle.generate_secret_id("certmate")["data"]["secret_id"],
    }


def test_approle_login_with_a_policy_for_certmates_folder_only(bao, approle):
    check_contract(lambda tenant: vault(bao, tenant, auth_method="approle", credentials=approle))

    # The same role may not write outside CertMate's folder: a permanent refusal, not a retry.
    outside = vault(bao, auth_method="approle", credentials=approle, path_prefix="other")
    with pytest.raises(StorageError) as refused:
        outside.store(sample_bundle("www.example.com"))
    assert refused.value.transient is False
    assert "check the AppRole login and its policy" in refused.value.reason
    assert approle["secret_id"] not in refused.value.reason


def test_wrong_approle_secret_id_is_permanent(bao, approle):
    wrong = str(uuid.uuid4())
    backend = vault(bao, auth_method="approle", credentials={**approle, "secret_id": wrong})
    with pytest.raises(StorageError, match="could not log in with the AppRole: invalid role or secret ID") as refused:
        backend.test_connection()
    assert refused.value.transient is False
    assert wrong not in refused.value.reason


def test_wrong_token_is_permanent_and_never_echoed(bao):
    token = f"hvs.{uuid.uuid4().hex}"
    backend = vault(bao, credentials={"token": token})
    for attempt in (backend.test_connection, lambda: backend.read("server", "www.example.com")):
        with pytest.raises(StorageError) as refused:
            attempt()
        assert refused.value.transient is False
        assert token not in refused.value.reason
        assert bao.url in refused.value.reason and "'secret'" in refused.value.reason


def test_missing_credentials_are_refused_before_any_call(bao, monkeypatch):
    # The platform's own VAULT_TOKEN must never stand in for a tenant's missing one.
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    with pytest.raises(StorageError, match="needs token") as refused:
        vault(bao, credentials={})
    assert refused.value.transient is False


def test_test_connection_names_a_missing_mount(bao):
    with pytest.raises(StorageError) as refused:
        vault(bao, mount="no-such-mount").test_connection()
    assert refused.value.transient is False
    assert "no such KV mount" in refused.value.reason
    assert "vault secrets enable -path=no-such-mount -version=2 kv" in refused.value.reason


def test_test_connection_names_a_kv_version_mismatch(bao, kv1_mount):
    with pytest.raises(StorageError, match="is KV version 1, but kv_version is set to 2") as refused:
        vault(bao, mount=kv1_mount, kv_version=2).test_connection()
    assert refused.value.transient is False
    with pytest.raises(StorageError, match="is KV version 2, but kv_version is set to 1"):
        vault(bao, kv_version=1).test_connection()


def test_vault_stopped_is_transient_and_works_again_after_restart(own_bao):
    server = own_bao()
    backend = vault(server)
    backend.store(sample_bundle("www.example.com", 1))
    port = server.port
    server.stop()

    with pytest.raises(StorageError) as unreachable:
        backend.store(sample_bundle("www.example.com", 2))
    assert unreachable.value.transient is True
    assert server.url in unreachable.value.reason
    assert server.root_token not in unreachable.value.reason

    # Same port, same root token; dev mode forgot the data, the same backend object carries on.
    server.start(port=port)
    assert server.url == f"http://127.0.0.1:{port}"
    backend.store(sample_bundle("www.example.com", 2))
    assert backend.read("server", "www.example.com") == sample_bundle("www.example.com", 2)


def test_sealed_vault_is_transient(own_bao):
    server = own_bao()
    backend = vault(server)
    backend.test_connection()
    root_client(server).sys.seal()
    with pytest.raises(StorageError, match="sealed") as sealed:
        backend.read("server", "www.example.com")
    assert sealed.value.transient is True

    server.restart()  # dev mode starts unsealed, on the same port
    assert backend.read("server", "www.example.com") is None


def test_no_answer_within_the_timeout_is_transient():
    # A socket that listens but never answers: the kernel accepts the connection, nobody reads it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        backend = VaultBackend(tenant="alpha", settings={"url": url, "timeout": 0.3}, credentials={"token": "x"})
        with pytest.raises(StorageError, match=r"did not answer within 0\.3s") as slow:
            backend.read("server", "www.example.com")
    assert slow.value.transient is True


def test_https_vault_behind_a_private_ca(own_bao):
    server = own_bao(tls=True)
    trusting = vault(server, ca_bundle=server.ca_pem)
    trusting.test_connection()
    trusting.store(sample_bundle("tls.example.com"))
    assert trusting.read("server", "tls.example.com") == sample_bundle("tls.example.com")
    with pytest.warns(InsecureRequestWarning):
        assert vault(server, verify_tls="false").read("server", "tls.example.com") is not None

    # Without the CA the certificate cannot be verified; retrying would not help.
    with pytest.raises(StorageError, match="TLS verification failed") as untrusted:
        vault(server).test_connection()
    assert untrusted.value.transient is False
