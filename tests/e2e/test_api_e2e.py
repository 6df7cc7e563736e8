"""The certificate API end to end, as a CertMate client would drive it: accounts, a wildcard certificate
issued by Pebble through BIND9 and a real Celery worker, every download form, renewal, auto-renew and
deletion — through the API alone (in-process client; committed rows, so the worker sees them)."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.services.tokens import token_create
from apps.accounts.services.users import user_create
from apps.certificates.models import Certificate, CertificateVersion
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.e2e.issuance import rfc2136_credentials, unique

pytestmark = [pytest.mark.tools, pytest.mark.worker]
JOB_TIMEOUT = 240


def operator_client(tenant) -> APIClient:
    with tenant_context(tenant):
        user = user_create(
            email=f"ops@{tenant.schema_name}.test",
            password="correct-horse-battery",
            role="operator",
            actor=Actor.command(),
        )
        admin = user_create(
            email=f"admin@{tenant.schema_name}.test",
            password="correct-horse-battery",
            role="admin",
            actor=Actor.command(),
        )
        _, operator_token = token_create(user=user, role="operator", name="e2e", actor=Actor.command())
        _, admin_token = token_create(user=admin, role="admin", name="e2e", actor=Actor.command())
    client = APIClient()
    client.defaults["HTTP_HOST"] = tenant.get_primary_domain().domain
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {operator_token}")
    client.admin_token = admin_token
    return client


def as_admin(client: APIClient, method: str, path: str, body: dict) -> dict:
    admin = APIClient()
    admin.defaults["HTTP_HOST"] = client.defaults["HTTP_HOST"]
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {client.admin_token}")
    response = getattr(admin, method)(path, body, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def poll(client: APIClient, job: dict) -> dict:
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        response = client.get(job["status_url"])
        assert response.status_code == 200, response.content
        polled = response.json()
        if polled["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return polled
        time.sleep(0.5)


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_a_wildcard_certificate_through_the_api(fresh_tenant, worker, pebble, bind9):
    tenant = fresh_tenant()
    client = operator_client(tenant)
    ca = as_admin(
        client,
        "post",
        "/api/ca-accounts",
        {
            "name": "pebble",
            "directory_url": pebble.directory_url,
            "email": "admin@certmate.test",
            "trust_bundle": pebble.ca_bundle.read_text(),
        },
    )
    as_admin(
        client,
        "post",
        "/api/dns-accounts",
        {"name": "bind", "provider": "rfc2136", "credentials": rfc2136_credentials(bind9), "propagation_seconds": 1},
    )
    apex = f"{unique()}.certmate.test"
    wildcard = f"*.{apex}"

    # --- create (async), poll the job ------------------------------------------------------------
    body = {
        "domain": wildcard,
        "san_domains": [apex],
        "ca_provider": ca["name"],
        "dns_provider": "rfc2136",
        "account_id": "bind",
        "async": True,
    }
    accepted = client.post("/api/certificates/create", body, format="json")
    assert accepted.status_code == 202, accepted.content
    job = poll(client, accepted.json())
    assert job["status"] == "succeeded", job
    assert job["output"] is None and job["version"] == 1  # certbot's output: for admins only
    assert as_admin(client, "get", job["status_url"], {})["output"]

    listed = client.get("/api/certificates").json()
    assert listed["count"] == 1
    row = listed["certificates"][0]
    assert (row["domain"], row["san_domains"], row["exists"], row["dns_provider"]) == (
        wildcard,
        [apex],
        True,
        "rfc2136",
    )
    assert row["days_left"] >= 1 and row["needs_renewal"] is False and row["ca_provider"] == "pebble"
    with tenant_context(tenant):
        version = CertificateVersion.objects.get(certificate__identifier=wildcard, number=1)
    assert row["serial"] == version.serial and sorted(version.san) == sorted([wildcard, apex])

    # --- every download form, consistent with each other and with the database -------------------
    path = f"/api/certificates/{wildcard.replace('*', '%2A')}"
    files = unzip(client.get(f"{path}/download").content)
    assert files == {
        "cert.pem": version.certificate_pem,
        "chain.pem": version.chain_pem,
        "fullchain.pem": version.fullchain_pem,
        "privkey.pem": version.private_key,
    }
    document = client.get(f"{path}/download?format=json").json()
    assert (document["cert_pem"], document["chain_pem"]) == (files["cert.pem"], files["chain.pem"])
    assert (document["fullchain_pem"], document["private_key_pem"]) == (files["fullchain.pem"], files["privkey.pem"])
    for name in ("cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"):
        assert client.get(f"{path}/download?file={name}").content.decode() == files[name]
    assert client.get(f"/{wildcard}/tls").content.decode() == files["fullchain.pem"]

    leaf = x509.load_pem_x509_certificate(files["cert.pem"].encode())
    pkcs1 = client.get(f"{path}/download?file=privkey.pem&key_format=pkcs1").content
    assert pkcs1.startswith(b"-----BEGIN EC PRIVATE KEY-----")
    key = serialization.load_pem_private_key(pkcs1, password=None)
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()
    pfx = client.post(f"{path}/download", {"file": "cert.pfx", "password": "e2e"}, format="json")
    bundle = pkcs12.load_pkcs12(pfx.content, b"e2e")
    assert bundle.cert.certificate == leaf
    assert [c.certificate for c in bundle.additional_certs] == x509.load_pem_x509_certificates(
        files["chain.pem"].encode()
    )
    with tenant_context(tenant):
        # zip, json, privkey.pem, pkcs1 privkey.pem, pfx
        assert AuditEvent.objects.filter(action="private_key.downloaded").count() == 5

    # --- renew (forced) as CertMate does: the answer comes once it is renewed -----------------------
    renewing = client.post(f"{path}/renew", {"force": True}, format="json")
    assert renewing.status_code == 200, renewing.content
    assert renewing.json()["renewed"] is True and renewing.json()["domain"] == wildcard
    assert client.post(f"{path}/renew", {}, format="json").json()["renewed"] is False  # not due: nothing ordered
    # --- and asynchronously: 202 with the job, polled ---------------------------------------------
    renewing = client.post(f"{path}/renew", {"force": True, "async": True}, format="json")
    assert renewing.status_code == 202 and renewing.json()["operation"] == "renew"
    renewed = poll(client, renewing.json())
    assert renewed["status"] == "succeeded" and renewed["version"] == 3, renewed
    versions = client.get(f"{path}/versions").json()
    assert [v["number"] for v in versions["versions"]] == [3, 2, 1] and versions["versions"][0]["is_current"]
    assert versions["versions"][0]["serial"] != version.serial
    assert client.get(f"{path}/download?file=cert.pem").content.decode() != files["cert.pem"]
    assert client.get(f"{path}/download?file=cert.pem&version=1").content.decode() == files["cert.pem"]

    # --- auto-renew, then a synchronous CertMate create ------------------------------------------
    assert client.put(f"{path}/auto-renew", {"enabled": False}, format="json").json()["auto_renew"] is False
    assert client.get(path).json()["auto_renew"] is False
    other = f"www.{apex}"
    created = client.post(
        "/api/certificates/create", {"domain": other, "dns_provider": "rfc2136", "ca_provider": "pebble"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["domain"] == other and created.json()["exists"] is True

    # --- delete ------------------------------------------------------------------------------------
    for domain in (wildcard, other):
        deleted = client.delete(f"/api/certificates/{domain}")
        assert deleted.status_code == 200 and deleted.json()["domain"] == domain
        assert client.get(f"/api/certificates/{domain}").status_code == 404
    assert client.get("/api/certificates").json() == {"certificates": [], "count": 0}
    with tenant_context(tenant):
        assert not Certificate.objects.exists() and not CertificateVersion.objects.exists()
        assert AuditEvent.objects.filter(action="private_key.downloaded", object_name=wildcard).count() == 5
