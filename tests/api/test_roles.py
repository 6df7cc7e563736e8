"""Who may do what: every accounts endpoint and method for anonymous, viewer, operator and admin."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.accounts.services.tokens import token_create
from apps.accounts.services.users import user_create
from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from certmate.actors import Actor
from tests.conftest import PASSWORD
from tests.factories import TEST_ACTOR

ADMIN, VIEWER, PUBLIC = Role.ADMIN, Role.VIEWER, None
RFC2136 = {"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2VjcmV0"}
CA = {"name": "ca2", "directory_url": "letsencrypt", "email": "pki@alpha.test"}
DNS = {"name": "bind2", "provider": "rfc2136", "credentials": RFC2136}

# (method, path, body, role needed (None: public), status when allowed)
MATRIX = [
    ("get", "/api/tokens", None, ADMIN, 200),
    ("post", "/api/tokens", {"role": "viewer"}, ADMIN, 201),
    ("get", "/api/tokens/{token}", None, ADMIN, 200),
    ("delete", "/api/tokens/{token}", None, ADMIN, 204),
    ("post", "/api/tokens/{token}/revoke", None, ADMIN, 200),
    ("get", "/api/ca-accounts", None, VIEWER, 200),
    ("post", "/api/ca-accounts", CA, ADMIN, 201),
    ("get", "/api/ca-accounts/{ca}", None, VIEWER, 200),
    ("put", "/api/ca-accounts/{ca}", CA, ADMIN, 200),
    ("patch", "/api/ca-accounts/{ca}", {"trust_bundle": ""}, ADMIN, 200),
    ("delete", "/api/ca-accounts/{ca}", None, ADMIN, 204),
    ("get", "/api/dns-accounts", None, VIEWER, 200),
    ("post", "/api/dns-accounts", DNS, ADMIN, 201),
    ("get", "/api/dns-accounts/{dns}", None, VIEWER, 200),
    ("put", "/api/dns-accounts/{dns}", DNS, ADMIN, 200),
    ("patch", "/api/dns-accounts/{dns}", {"propagation_seconds": 30}, ADMIN, 200),
    ("delete", "/api/dns-accounts/{dns}", None, ADMIN, 204),
    ("get", "/api/dns-providers", None, VIEWER, 200),
    ("get", "/api/settings", None, VIEWER, 200),
    ("patch", "/api/settings", {"auto_renew_default": False}, ADMIN, 200),
    ("get", "/api/schema/", None, PUBLIC, 200),
    ("get", "/api/docs/", None, PUBLIC, 200),
    ("get", "/api/redoc/", None, PUBLIC, 200),
]
ROLES = [None, Role.VIEWER, Role.OPERATOR, Role.ADMIN]


def expected_status(caller: Role | None, needed: Role | None, allowed: int) -> int:
    if needed is None:
        return allowed
    if caller is None:
        return 401
    return allowed if caller.rank >= needed.rank else 403


@pytest.fixture
def objects(tenant_a):
    with tenant_context(tenant_a):
        owner = user_create(email="owner@alpha.test", password=PASSWORD, role="admin", actor=Actor.command())
        token, _ = token_create(user=owner, role="viewer", actor=Actor.command())
        ca = ca_account_create(actor=TEST_ACTOR, name="ca", directory="letsencrypt", email="pki@alpha.test")
        dns = dns_account_create(actor=TEST_ACTOR, name="bind", provider="rfc2136", credentials=RFC2136)
    return {"token": token.pk, "ca": ca.pk, "dns": dns.pk}


@pytest.mark.parametrize("caller", ROLES, ids=lambda role: role or "anonymous")
@pytest.mark.parametrize(
    ("method", "path", "body", "needed", "allowed"), MATRIX, ids=[f"{m.upper()} {p}" for m, p, *_ in MATRIX]
)
def test_role_matrix(tenant_a, api_client, anon_client, objects, caller, method, path, body, needed, allowed):
    client = api_client(tenant_a, caller) if caller else anon_client(tenant_a)
    response = getattr(client, method)(path.format(**objects), body)
    assert response.status_code == expected_status(caller, needed, allowed), response.content
    if response.status_code == 403:
        assert response.json() == {
            "error": f"{method.upper()} {path.format(**objects)} needs the {needed} role; this token has {caller}",
            "code": "permission_denied",
        }
    if response.status_code == 401:
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Bearer"


def test_a_tokens_role_caps_its_admin_user(tenant_a, api_user, anon_client):
    admin = api_user(tenant_a, "admin")
    with tenant_context(tenant_a):
        _, raw = token_create(user=admin, role="viewer", actor=Actor.command())
    client = anon_client(tenant_a)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/settings").status_code == 200
    assert client.patch("/api/settings", {"auto_renew_default": False}).status_code == 403
