"""Storage backends under the egress rule: a tenant's target never reaches loopback, cloud metadata or other
refused addresses (web process and workers alike), and what a server answers is never read back to the tenant."""

from __future__ import annotations

import time

import pytest

from apps.storage.backends.aws import AwsSecretsManagerBackend
from apps.storage.backends.azure import AzureKeyVaultBackend
from apps.storage.backends.base import Bundle, StorageError
from apps.storage.backends.infisical import InfisicalBackend
from apps.storage.backends.vault import VaultBackend
from tests.egress import REFUSED_HOSTS, Listener, Trickle, http_reply, loopback_name_resolves_to_loopback

INTERNAL_PAGE = b"<html><h1>internal admin</h1>INTERNAL-PAGE-MARKER</html>"


def vault(url: str) -> VaultBackend:
    return VaultBackend(tenant="alpha", settings={"url": url, "timeout": 3}, credentials={"token": "hvs.token"})


def aws(url: str) -> AwsSecretsManagerBackend:
    credentials = {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "secret-access-key"}
    return AwsSecretsManagerBackend(
        tenant="alpha", settings={"region": "eu-west-1", "endpoint_url": url}, credentials=credentials
    )


def azure(url: str) -> AzureKeyVaultBackend:
    credentials = {"tenant_id": "8f2c1c7e-3c1d-4c55-9d59-3d1e4d1b2a10", "client_id": "c", "client_secret": "s"}
    return AzureKeyVaultBackend(tenant="alpha", settings={"vault_url": url}, credentials=credentials)


def infisical(url: str) -> InfisicalBackend:
    return InfisicalBackend(tenant="alpha", settings={"site_url": url, "project_id": "p"}, credentials={"token": "t"})


BACKENDS = {
    "vault": (vault, "http"),
    "aws": (aws, "http"),
    "azure": (azure, "https"),
    "infisical": (infisical, "https"),
}
BUNDLE = Bundle(kind="server", identifier="www.example.com", version=1, cert_pem="c", chain_pem="c",
                fullchain_pem="c", privkey_pem="k")  # fmt: skip
CALLS = {
    "test_connection": lambda backend: backend.test_connection(),
    "store": lambda backend: backend.store(BUNDLE),
    "read": lambda backend: backend.read("server", "www.example.com"),
    "list": lambda backend: backend.list(),
    "delete": lambda backend: backend.delete("server", "www.example.com"),
}


@pytest.fixture
def no_allowance(settings):
    settings.CERTMATE_EGRESS_ALLOW = []


def test_this_machines_name_resolves_to_loopback():
    assert loopback_name_resolves_to_loopback()  # what the tests below rely on


@pytest.mark.parametrize("host", REFUSED_HOSTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_target_on_a_refused_address_is_never_reached(no_allowance, backend, host):
    build, scheme = BACKENDS[backend]
    with Listener(http_reply(body=b"{}")) as listener:
        for call in CALLS.values():
            with pytest.raises(StorageError) as refused:
                call(build(listener.url(host, scheme)))
            assert "which the platform does not connect to for tenants" in refused.value.reason
            assert "CERTMATE_EGRESS_ALLOW" in refused.value.reason
            assert refused.value.transient is False
        assert listener.accepted == 0


def test_with_loopback_allowed_the_same_target_is_reached(settings):
    settings.CERTMATE_EGRESS_ALLOW = ["127.0.0.0/8"]
    with Listener(http_reply(body=b"{}")) as listener:
        with pytest.raises(StorageError):
            vault(listener.url()).test_connection()
        assert listener.accepted >= 1


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (http_reply(body=INTERNAL_PAGE, headers={"Content-Type": "text/html"}), 200),
        (http_reply("404 Not Found", body=INTERNAL_PAGE, headers={"Content-Type": "text/html"}), 404),
        (http_reply(body=b'{"not": "vault"}', headers={"Content-Type": "application/json"}), 200),
        (http_reply("400 Bad Request", body=INTERNAL_PAGE), 400),
    ],
)
def test_a_vault_url_answering_something_else_is_a_clean_error_without_the_body(reply, status):
    # Loopback is allowed in the tests' settings: this is the service behind an allowed address.
    with Listener(reply) as listener:
        with pytest.raises(StorageError) as refused:
            vault(listener.url()).test_connection()
        assert f"answered HTTP {status} with something that is not Vault's API" in refused.value.reason
        for name, call in CALLS.items():
            try:
                call(vault(listener.url()))
            except StorageError as error:  # a bare 200 to a delete is no error: nothing is read from it
                assert "INTERNAL-PAGE-MARKER" not in error.reason and "internal admin" not in error.reason, name


@pytest.mark.parametrize("backend", ["aws", "infisical"])
@pytest.mark.parametrize("status", ["403 Forbidden", "404 Not Found", "500 Internal Server Error", "200 OK"])
def test_other_backends_never_read_a_foreign_body_back(backend, status):
    build, _ = BACKENDS[backend]
    reply = http_reply(status, body=INTERNAL_PAGE, headers={"Content-Type": "text/html"})
    with Listener(reply) as listener:
        for name, call in CALLS.items():
            try:
                call(build(listener.url()))
            except StorageError as error:  # (a 404 to a read is "nothing stored": no error)
                assert "INTERNAL-PAGE-MARKER" not in error.reason, name
            else:  # a page answering 200 may pass for an empty answer; it is still never shown
                assert name != "test_connection" or status == "200 OK"


def test_an_infisical_url_answering_a_page_is_a_clean_permanent_error():
    page = http_reply(body=INTERNAL_PAGE, headers={"Content-Type": "text/html"})
    with Listener(page) as listener, pytest.raises(StorageError) as refused:
        infisical(listener.url()).test_connection()
    assert "the answer is not Infisical's API" in refused.value.reason
    assert refused.value.transient is False and "INTERNAL-PAGE-MARKER" not in refused.value.reason


@pytest.mark.parametrize(
    "url",
    [
        "http://vault.example.com/#",
        "http://vault.example.com/?x=",
        "ftp://vault.example.com",
        "http://a:b@vault.example",
    ],
)
def test_a_vault_url_that_would_choose_its_own_path_is_refused_before_connecting(url):
    with pytest.raises(StorageError, match=r"Vault url.* must"):
        vault(url).test_connection()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_proxy_named_by_the_environment_never_carries_a_tenants_connection(monkeypatch, backend):
    # The SDKs read HTTPS_PROXY/HTTP_PROXY; the proxy, not the egress rule, would then resolve and reach the
    # tenant's host (here the cloud metadata service's name). The proxy sits on an allowed address (loopback
    # in the tests' settings, an allowed internal range in production), so only refusing to use it helps.
    build, scheme = BACKENDS[backend]
    with Listener(http_reply("403 Forbidden")) as proxy:
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
            monkeypatch.setenv(name, proxy.url())
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        with pytest.raises(StorageError) as refused:
            build(f"{scheme}://metadata.google.internal").test_connection()
        assert proxy.accepted == 0
    assert "proxy" in refused.value.reason and refused.value.transient is False


def test_a_target_trickling_its_answer_is_cut_at_the_platforms_bound(settings):
    # Vault's timeout bounds each wait for a byte: a server sending one byte a second less often holds a
    # worker (or the web thread testing the connection) for as long as it likes, one per publication.
    settings.CERTMATE_STORAGE_CALL_SECONDS = 2
    server = Trickle(b'{"data": {}}', interval=0.5)  # about a minute in all
    try:
        started = time.monotonic()
        with pytest.raises(StorageError):
            vault(f"http://127.0.0.1:{server.port}").store(BUNDLE)
        assert time.monotonic() - started < 6
    finally:
        server.close()
