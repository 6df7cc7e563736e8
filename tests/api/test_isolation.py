"""Tenants cannot reach each other through the API: tokens and sessions are per schema, ids too."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.services.tokens import token_create
from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from certmate.actors import Actor
from tests.api.conftest import host_of
from tests.conftest import PUBLIC_HOST, TENANT_A, TENANT_B
from tests.factories import TEST_ACTOR

RFC2136 = {"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2VjcmV0"}


# Documented without credentials on purpose: CertMate serves its CRL to anyone too.
PUBLIC_OPERATIONS = {("get", "/api/crl/download/1")}


def schema_operations(client: APIClient, *, public: bool = False) -> list[tuple[str, str]]:
    """Every (method, path) the API documents as taking credentials (``public``: as taking none), path
    parameters filled with 1."""
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    methods = {"get", "post", "put", "patch", "delete"}
    return [
        (method, re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in methods and bool(operation.get("security")) != public
    ]


def session_client(tenant, email: str) -> APIClient:
    client = APIClient()
    client.defaults["HTTP_HOST"] = host_of(tenant)
    with tenant_context(tenant):
        client.force_login(User.objects.get(email=email))
    return client


def test_a_token_of_one_tenant_is_unknown_on_every_endpoint_of_another(tenant_a, tenant_b, api_client, settings):
    settings.CERTMATE_API_RATE_ANON = "1000/min"  # more endpoints than one minute's anonymous budget
    alpha = api_client(tenant_a, "admin")
    operations = schema_operations(alpha)
    assert len(operations) >= 15 and set(schema_operations(alpha, public=True)) == PUBLIC_OPERATIONS
    alpha.defaults["HTTP_HOST"] = TENANT_B["domain"]
    for method, path in operations:
        response = getattr(alpha, method)(path, {})
        assert response.status_code == 401, (method, path, response.content)
        assert response.json()["code"] == "authentication_failed"


def test_ids_of_one_tenant_are_not_found_on_another(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        owner = User.objects.get(email=TENANT_A["admin_email"])
        token, _ = token_create(user=owner, role="admin", name="alpha-only", actor=Actor.command())
        ca = ca_account_create(actor=TEST_ACTOR, name="alpha-ca", directory="letsencrypt", email="pki@alpha.test")
        dns = dns_account_create(actor=TEST_ACTOR, name="alpha-dns", provider="rfc2136", credentials=RFC2136)
    # beta's admin signs in with a session: beta then has no tokens, CA or DNS accounts whose ids could match
    beta = session_client(tenant_b, TENANT_B["admin_email"])
    objects = [
        ("/api/tokens", token.pk, ("get", "delete")),
        ("/api/ca-accounts", ca.pk, ("get", "put", "patch", "delete")),
        ("/api/dns-accounts", dns.pk, ("get", "put", "patch", "delete")),
    ]
    for base, pk, methods in objects:
        assert beta.get(base).json() == []
        for method in methods:
            response = getattr(beta, method)(f"{base}/{pk}", {})
            assert response.status_code == 404, (method, base)
            assert response.json() == {"error": "not found: no such object here", "code": "not_found"}
    assert beta.post(f"/api/tokens/{token.pk}/revoke").status_code == 404
    with tenant_context(tenant_a):
        token.refresh_from_db()
    assert token.revoked_at is None
    assert beta.patch("/api/settings", {"default_ca_account": ca.pk}).status_code == 400


def test_sessions_work_with_csrf_and_only_on_their_own_host(tenant_a, tenant_b):
    client = session_client(tenant_a, TENANT_A["admin_email"])
    assert client.get("/api/settings").status_code == 200
    client.defaults["HTTP_HOST"] = TENANT_B["domain"]
    assert client.get("/api/settings").status_code == 401

    strict = APIClient(enforce_csrf_checks=True)
    strict.defaults["HTTP_HOST"] = TENANT_A["domain"]
    with tenant_context(tenant_a):
        strict.force_login(User.objects.get(email=TENANT_A["admin_email"]))
    refused = strict.patch("/api/settings", {"auto_renew_default": False})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied" and "CSRF" in refused.json()["error"]


@pytest.mark.parametrize("path", ["/api/settings", "/api/tokens", "/api/schema/"])
def test_the_public_host_serves_no_tenant_api(db, api_client, tenant_a, path):
    client = api_client(tenant_a, "admin")
    client.defaults["HTTP_HOST"] = PUBLIC_HOST
    assert client.get(path).status_code == 404
