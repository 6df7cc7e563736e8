"""The OpenAPI schema builds cleanly, and its docs are served offline from the sidecar's static files."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import call_command

CDN = re.compile(rb"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)
ASSET = re.compile(rb"""(?:src|href)\s*=\s*["'](/static/[^"']+)["']""")


def test_schema_builds_without_warnings_or_errors(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (an unresolvable field, a missing serializer) into
    # a failure; --validate checks the result against the OpenAPI 3 specification.
    target = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(target),
        "--urlconf",
        "certmate.urls_tenant",
        stderr=StringIO(),
    )
    text = target.read_text()
    assert "/api/settings" in text and "bearerAuth" in text


def test_every_field_and_operation_is_described(tenant_a, anon_client):
    schema = anon_client(tenant_a).get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    assert len(components) >= 30
    undescribed = [
        f"{name}.{field}"
        for name, component in components.items()
        for field, spec in component.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undescribed == []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), f"{method} {path} is not described"
            assert operation["responses"]["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, (method, path)


def test_schema_is_public_even_with_a_bad_token(tenant_a, anon_client):
    client = anon_client(tenant_a)
    client.credentials(HTTP_AUTHORIZATION="Bearer cm_not-a-token")
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "certmate API"


def test_docs_pages_load_only_local_assets(tenant_a, anon_client):
    client = anon_client(tenant_a)
    for page in ("/api/docs/", "/api/redoc/"):
        response = client.get(page)
        assert response.status_code == 200
        assert not CDN.search(response.content), f"{page} loads something from another site"
        assets = ASSET.findall(response.content)
        assert assets, page
        for asset in assets:
            served = client.get(asset.decode())
            assert served.status_code == 200, asset
            assert b"".join(served.streaming_content if served.streaming else [served.content])
