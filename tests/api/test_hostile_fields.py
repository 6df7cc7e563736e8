"""Hand-written hostile input, walked from the OpenAPI schema: every writable field of every request
body gets wrong types, out-of-range numbers, huge and deeply nested values, control characters and
non-ASCII digits, and every body as a whole is replaced by hostile JSON. Whatever it is, the answer is
a 4xx in the API's error shape (or a 2xx where the value is fine), never a 5xx; and the other tenant's
rows never change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken
from apps.accounts.services.tokens import token_create
from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import CaAccount, DnsAccount
from certmate.actors import Actor
from tests.factories import TEST_ACTOR, certificate_make

DEEP = 40  # deeper than the 32 levels the API takes
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    [],
    {"a": {"b": 1}},
    -1,
    2**63,
    1e308,
    -1e308,
    0.5,
    "x" * 100_000,
    "a\x00b",
    "a\nb\r\nno-verify-ssl = true",
    "\u202e\u0000\u0007",
    "\u0661\u0662",  # Arabic-Indic 12
    "\uff11\uff12",  # full-width 12
    "../../etc/passwd",
    json.loads("[" * DEEP + "]" * DEEP),
]
# (body, whether every endpoint must refuse it): JSON that is no object may be fine for an optional body.
HOSTILE_BODIES = [
    ("null", False),
    ("[]", False),
    ('"text"', False),
    ("12", False),
    ("[" * 100_000 + "]" * 100_000, True),
    ('{"a":' * DEEP + "1" + "}" * DEEP, True),
    ('{"x": 1e999}', True),
    ('{"name": "\\ud800"}', True),  # a lone surrogate
    ("\xff\xfe{}", True),
]


def _request_bodies(schema: dict) -> list[tuple[str, str, dict]]:
    """(method, path, properties) of every operation taking a JSON object body."""
    found = []
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            if not content:
                continue
            body = content["schema"]
            if "$ref" in body:
                body = components[body["$ref"].rsplit("/", 1)[1]]
            properties = {name: spec for name, spec in body.get("properties", {}).items() if not spec.get("readOnly")}
            found.append((method.upper(), path, properties))
    return found


@pytest.fixture
def admin_api(tenant_a, api_user):
    """A client for alpha.test with an admin token, and the ids the paths take."""
    admin = api_user(tenant_a, "admin")
    with tenant_context(tenant_a):
        ids = {
            "ca-accounts": ca_account_create(
                actor=TEST_ACTOR, name="ca", directory="letsencrypt_staging", email="ops@alpha.test"
            ).pk,
            "dns-accounts": dns_account_create(
                actor=TEST_ACTOR, name="dns", provider="cloudflare", credentials={"api_token": "CF-TOKEN"}
            ).pk,
            "tokens": token_create(user=admin, role="viewer", actor=Actor.command())[0].pk,
            "users": api_user(tenant_a, "viewer").pk,
        }
        certificate_make("www.alpha.test")
        raw = token_create(user=admin, role="admin", actor=Actor.command())[1]
    client = Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raise_request_exception = False
    client.ids = ids
    return client


def _url(client, path: str) -> str:
    for collection, pk in client.ids.items():
        path = path.replace(f"/api/{collection}/{{id}}", f"/api/{collection}/{pk}")
    return path.replace("{domain}", "www.alpha.test")


def _rows(tenant) -> tuple:
    with tenant_context(tenant):
        return (
            list(CaAccount.objects.values_list("name", "email", "directory_url", "eab_kid")),
            list(DnsAccount.objects.values_list("name", "provider")),
            ApiToken.objects.count(),
        )


def _assert_4xx_or_fine(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"
    if response.status_code >= 400 and response.status_code != 405:
        body = response.json()
        assert set(body) <= {"error", "code", "fields"} and body["error"] and body["code"], what


def test_every_field_of_every_body_survives_hostile_values(admin_api, tenant_a, tenant_b):
    other_tenant = _rows(tenant_b)
    schema = json.loads(admin_api.get("/api/schema/?format=json").content)
    operations = _request_bodies(schema)
    assert len(operations) >= 12
    sent = 0
    for method, path, properties in operations:
        url = _url(admin_api, path)
        for field in properties:
            for value in HOSTILE_VALUES:
                body = json.dumps({field: value})
                response = admin_api.generic(method, url, body, content_type="application/json")
                sent += 1
                _assert_4xx_or_fine(response, f"{method} {path} {field}={str(value)[:40]!r}")
        for raw, refused in HOSTILE_BODIES:
            response = admin_api.generic(
                method, url, raw.encode("utf-8", "surrogatepass"), content_type="application/json"
            )
            sent += 1
            _assert_4xx_or_fine(response, f"{method} {path} body {raw[:40]!r}")
            assert response.status_code >= 400 or not refused, f"{method} {path} took {raw[:40]!r}"
    assert sent >= 500
    assert _rows(tenant_b) == other_tenant


@pytest.mark.parametrize(
    "path",
    [
        "/api/ca-accounts/\u0661",
        "/api/dns-accounts/\uff11",
        "/api/tokens/1%00",
        "/api/certificates/jobs/\u0661",
        "/api/certificates/%00",
        "/api/certificates/a%0Ab.example/download",
        "/api/certificates/www.alpha.test/download/..%2F..%2Fetc%2Fpasswd",
        "/api/certificates?limit=\u0661&offset=\u0660",
        "/api/certificates?page=99999999999999999999",
        "/api/storage/publications?state=%00",
        "/api/certificates/jobs?status=\u202e",
    ],
)
def test_hostile_paths_and_query_strings_answer_4xx(admin_api, path):
    response = admin_api.get(path)
    _assert_4xx_or_fine(response, path)
    assert response.status_code >= 400 or "\u0661" not in path
