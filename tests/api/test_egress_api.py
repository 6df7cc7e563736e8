"""The API refuses tenant-chosen destinations the egress rule refuses: a 4xx naming the setting at validation,
a clear 502 when a name resolves to a refused address; a listener on loopback never sees a connection."""

from __future__ import annotations

import json

import pytest

from tests.egress import LOOPBACK_NAME, REFUSED_HOSTS, Listener, http_reply

LITERAL_HOSTS = [host for host in REFUSED_HOSTS if host != LOOPBACK_NAME]


@pytest.fixture
def no_allowance(settings, tmp_path):
    settings.CERTMATE_EGRESS_ALLOW = []
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"


def storage_targets(url: str) -> dict[str, dict]:
    return {
        "url": {"backend": "hashicorp_vault", "settings": {"url": url}, "credentials": {"token": "hvs.x"}},
        "endpoint_url": {
            "backend": "aws_secrets_manager",
            "settings": {"region": "eu-west-1", "endpoint_url": url},
            "credentials": {"access_key_id": "AKIAX", "secret_access_key": "s"},
        },
        "vault_url": {
            "backend": "azure_keyvault",
            "settings": {"vault_url": url.replace("http://", "https://")},
            "credentials": {"tenant_id": "t", "client_id": "c", "client_secret": "s"},
        },
        "site_url": {
            "backend": "infisical",
            "settings": {"site_url": url.replace("http://", "https://"), "project_id": "p"},
            "credentials": {"token": "t"},
        },
    }


@pytest.mark.parametrize("host", LITERAL_HOSTS)
@pytest.mark.parametrize("field", ["url", "endpoint_url", "vault_url", "site_url"])
def test_storage_targets_on_refused_addresses_are_a_400(no_allowance, tenant_a, api_client, host, field):
    client = api_client(tenant_a)
    with Listener(http_reply(body=b"{}")) as listener:
        for test in (True, False):
            body = {**storage_targets(listener.url(host))[field], "test": test}
            response = client.put("/api/storage", body, format="json")
            assert response.status_code == 400, response.content
            assert "CERTMATE_EGRESS_ALLOW" in response.json()["fields"][field][0]
        assert listener.accepted == 0
    assert client.get("/api/storage").json()["backend"] == "local_filesystem"


@pytest.mark.parametrize("field", ["url", "endpoint_url", "vault_url", "site_url"])
def test_a_name_resolving_to_loopback_is_refused_when_connecting(no_allowance, tenant_a, api_client, field):
    client = api_client(tenant_a)
    with Listener(http_reply(body=b"{}")) as listener:
        response = client.put("/api/storage", storage_targets(listener.url(LOOPBACK_NAME))[field], format="json")
        assert response.status_code == 502, response.content
        assert response.json()["code"] == "storage_refused"
        assert "127.0.0.1 is a loopback address" in response.json()["error"]
        assert listener.accepted == 0


def test_a_vault_url_with_a_fragment_is_a_400(tenant_a, api_client):
    target = storage_targets("http://127.0.0.1:8200/v1/sys/health#")["url"]
    response = api_client(tenant_a).put("/api/storage", target, format="json")
    assert response.status_code == 400
    assert "#fragment" in response.json()["fields"]["url"][0]


def test_a_vault_url_answering_a_web_page_is_a_502_without_the_page(tenant_a, api_client):
    page = http_reply(body=b"<html>INTERNAL-PAGE-MARKER</html>", headers={"Content-Type": "text/html"})
    with Listener(page) as listener:
        response = api_client(tenant_a).put("/api/storage", storage_targets(listener.url())["url"], format="json")
    assert response.status_code == 502, response.content
    assert "answered HTTP 200 with something that is not Vault's API" in response.json()["error"]
    assert b"INTERNAL-PAGE-MARKER" not in response.content


@pytest.mark.parametrize("host", LITERAL_HOSTS)
def test_acme_directories_on_refused_addresses_are_a_400(no_allowance, tenant_a, api_client, host):
    client = api_client(tenant_a)
    with Listener() as listener:
        body = {"name": "ca", "directory_url": listener.url(host, "https", "/dir"), "email": "pki@alpha.test"}
        response = client.post("/api/ca-accounts", body, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "refused_directory"
        assert "CERTMATE_EGRESS_ALLOW" in response.json()["error"]
        assert listener.accepted == 0
    assert client.get("/api/ca-accounts").json() == []


def dns_credentials(url: str, ip: str) -> dict[str, dict]:
    key = {"type": "service_account", "client_email": "a@p.iam.gserviceaccount.com", "private_key": "k",
           "project_id": "p", "token_uri": url.replace("http://", "https://")}  # fmt: skip
    return {
        "powerdns": {"api_url": url, "api_key": "k"},
        "desec": {"api_token": "t", "endpoint": url.replace("http://", "https://")},
        "rfc2136": {"nameserver": ip, "port": "53", "tsig_key": "k", "tsig_secret": "c2VjcmV0"},
        "google": {"service_account_key": json.dumps(key)},
    }


# rfc2136 takes an IP address only: a name is refused as such (tested with the provider).
DNS_CASES = [
    (provider, host)
    for provider in ("powerdns", "desec", "rfc2136", "google")
    for host in LITERAL_HOSTS
    if not (provider == "rfc2136" and host == "localhost")
]


@pytest.mark.parametrize(("provider", "host"), DNS_CASES)
def test_dns_endpoints_on_refused_addresses_are_a_400(no_allowance, tenant_a, api_client, provider, host):
    client = api_client(tenant_a)
    with Listener() as listener:
        credentials = dns_credentials(listener.url(host), host.strip("[]"))[provider]
        response = client.post(
            "/api/dns-accounts", {"name": "dns", "provider": provider, "credentials": credentials}, format="json"
        )
        assert response.status_code == 400, response.content
        assert "CERTMATE_EGRESS_ALLOW" in response.content.decode()
        assert listener.accepted == 0
    assert client.get("/api/dns-accounts").json() == []


def test_with_loopback_allowed_the_same_accounts_are_accepted(tenant_a, api_client):
    client = api_client(tenant_a)
    for provider, credentials in dns_credentials("http://127.0.0.1:8081", "127.0.0.1").items():
        response = client.post(
            "/api/dns-accounts", {"name": provider, "provider": provider, "credentials": credentials}, format="json"
        )
        assert response.status_code == 201, response.content
    body = {"name": "ca", "directory_url": "https://127.0.0.1:14000/dir", "email": "pki@alpha.test"}
    assert client.post("/api/ca-accounts", body, format="json").status_code == 201
