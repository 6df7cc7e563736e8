"""Bad input is a 4xx saying what is wrong, never a 500: storage settings of the wrong type or out of
bounds, bodies over the size limit (413), nesting deeper than any endpoint takes, non-ASCII digits."""

from __future__ import annotations

import json
from importlib import import_module

import pytest
from django.urls import URLPattern, URLResolver
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from certmate.api.parsers import BoundedJSONParser, BoundedMultiPartParser
from tests.factories import TEST_ACTOR

TOO_DEEP = 33  # one level more than the API takes
VAULT = {"url": "http://127.0.0.1:9"}


@pytest.fixture(autouse=True)
def _storage_root(tmp_path, settings):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"


def _put_raw(client, text: str):
    return client.generic("PUT", "/api/storage", text, content_type="application/json")


@pytest.mark.parametrize(
    "timeout", ["-1", "0", "1e999", "-1e999", "1e308", "100000000000000000000000000000", "31", '"10"', "true"]
)
def test_vault_timeout_is_bounded(tenant_a, api_client, timeout):
    body = '{"backend": "hashicorp_vault", "settings": {"url": "http://127.0.0.1:9", "timeout": TIMEOUT}, '
    response = _put_raw(api_client(tenant_a), body.replace("TIMEOUT", timeout) + '"credentials": {"token": "t"}}')
    assert response.status_code == 400, response.content
    body = response.json()
    # 1e999 is no number at all (it reads as infinity): refused with the body, not the field.
    assert "timeout" in body.get("fields", {}) or (body["code"] == "parse_error" and "1e999" in timeout)


def test_nan_is_not_json(tenant_a, api_client):
    body = '{"backend": "hashicorp_vault", "settings": {"url": "http://127.0.0.1:9", "timeout": NaN}}'
    response = _put_raw(api_client(tenant_a), body)
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


@pytest.mark.parametrize(
    ("backend", "values", "credentials", "field"),
    [
        ("hashicorp_vault", {**VAULT, "auth_method": ["token"]}, {"token": "t"}, "auth_method"),
        ("hashicorp_vault", {**VAULT, "auth_method": "kerberos"}, {"token": "t"}, "auth_method"),
        ("hashicorp_vault", {**VAULT, "kv_version": 3}, {"token": "t"}, "kv_version"),
        ("hashicorp_vault", {**VAULT, "mount": {"a": 1}}, {"token": "t"}, "mount"),
        ("hashicorp_vault", {"url": ["http://x"]}, {"token": "t"}, "url"),
        ("hashicorp_vault", {"url": "file:///etc/passwd"}, {"token": "t"}, "url"),
        ("hashicorp_vault", VAULT, {"token": {"id": "t"}}, "token"),
        ("hashicorp_vault", VAULT, {"token": "t\x00"}, "token"),
        ("hashicorp_vault", VAULT, {"token": "t" * 20000}, "token"),
        (
            "aws_secrets_manager",
            {"region": "eu-west-1"},
            {"access_key_id": {"a": 1}, "secret_access_key": [1]},
            "access_key_id",
        ),
        ("aws_secrets_manager", {"region": ["eu-west-1"]}, {"access_key_id": "a", "secret_access_key": "b"}, "region"),
    ],
)
def test_storage_values_of_the_wrong_type_answer_400(tenant_a, api_client, backend, values, credentials, field):
    given = {"backend": backend, "settings": values, "credentials": credentials}
    response = api_client(tenant_a).put("/api/storage", given, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert "t" * 100 not in response.content.decode()


def test_a_body_over_the_limit_answers_413_in_the_error_shape(tenant_a, tenant_b, api_client, settings):
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "directory": "letsencrypt"})
    response = api_client(tenant_a).generic("POST", "/api/ca-accounts", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large" and response.json()["error"]
    # Just under the limit is read, and judged on its content.
    small = json.dumps({"name": "x" * 200, "directory": "letsencrypt", "email": "a@example.com"})
    assert (
        api_client(tenant_b).generic("POST", "/api/ca-accounts", small, content_type="application/json").status_code
        == 400
    )


@pytest.mark.parametrize("depth", [TOO_DEEP, 100_000])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_answers_400(tenant_a, api_client, depth, opening):
    closing = "]" if opening == "[" else "}"
    body = opening * depth + "1" + closing * depth
    for method, path in (("POST", "/api/ca-accounts"), ("PUT", "/api/storage"), ("POST", "/api/certificates/create")):
        response = api_client(tenant_a).generic(method, path, body, content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (400, "parse_error"), (path, response.content)


def test_nesting_an_endpoint_takes_still_works(tenant_a, api_client):
    given = {"backend": "local_filesystem", "settings": {}, "test": False}
    assert api_client(tenant_a).put("/api/storage", given, format="json").status_code == 200


def test_ids_are_ascii_digits(tenant_a, tenant_b, api_client):
    with tenant_context(tenant_a):
        account = ca_account_create(
            actor=TEST_ACTOR, name="one", directory="letsencrypt_staging", email="ops@alpha.test"
        )
    client = api_client(tenant_a)
    assert client.get(f"/api/ca-accounts/{account.pk}").status_code == 200
    arabic = "".join(chr(0x0660 + int(d)) for d in str(account.pk))
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(account.pk))
    for shown in (arabic, fullwidth, f"{account.pk}%0A", f"+{account.pk}", f"%20{account.pk}"):
        response = client.get(f"/api/ca-accounts/{shown}")
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), shown
    assert api_client(tenant_b).get(f"/api/ca-accounts/{account.pk}").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/certificates?limit=\u0661", None),
        ("get", "/api/certificates?page=\u0661&page_size=\u0662", None),
        ("get", "/api/certificates?expiring_within=\u0663\u0660", None),
        ("post", "/api/dns-accounts", {"name": "d", "provider": "cloudflare", "propagation_seconds": "\u0663\u0660"}),
        ("patch", "/api/settings", {"renewal_threshold_days": "\u0663\u0660"}),
        ("post", "/api/tokens", {"role": "viewer", "expires_days": "\u0663"}),
    ],
)
def test_non_ascii_digits_are_not_numbers(tenant_a, api_client, method, path, body):
    response = getattr(api_client(tenant_a), method)(path, body, format="json")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("urlconf", ["certmate.urls_tenant", "certmate.urls_public"])
def test_every_api_view_reads_bodies_with_the_bounded_parser(urlconf):
    # One default for the whole API: a view that does not derive from TenantAPIView (the schema's, any
    # to come) must not fall back to DRF's parser, which a deeply nested body sends into a RecursionError.
    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
                yield pattern.callback.cls

    found = list(views(import_module(urlconf).urlpatterns))
    assert found or urlconf.endswith("public")
    for view in found:
        parsers = view.parser_classes
        bounded = (BoundedJSONParser, BoundedMultiPartParser)  # JSON, or a file upload refused past its size
        assert parsers and all(issubclass(parser, bounded) for parser in parsers), view
