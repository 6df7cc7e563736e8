"""Walks for the secrets sweep: every GET of the tenant API (from its OpenAPI schema) and every admin page
(from the admin sites' registries), each answer handed to a callback to be scanned.

The API walk fills path variables from what the list endpoints answer (ids, job ids, domains), tries each
enumerated or boolean query parameter value one at a time, and opens ZIP answers so their files are
scanned rather than their compressed bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

# Answer (name, content) pairs for one request: name says which request and which part (file) of it.
Answer = tuple[str, bytes]
PAGING = {"limit", "offset", "page", "page_size"}
# More than enough to reach every object these tests create, and a bound on the walk.
MAX_OBJECTS_PER_MODEL = 30


def unpacked(name: str, response) -> Iterator[Answer]:
    content = response.content if not getattr(response, "streaming", False) else b"".join(response.streaming_content)
    if response.get("Content-Type", "").startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for member in archive.namelist():
                yield f"{name} [{member}]", archive.read(member)
        return
    yield name, content


# -- the API ------------------------------------------------------------------------------------------


def _values_of(document: Any, key: str) -> set[str]:
    found: set[str] = set()
    if isinstance(document, dict):
        for name, value in document.items():
            if name == key and isinstance(value, int | str) and not isinstance(value, bool):
                found.add(str(value))
            else:
                found |= _values_of(value, key)
    elif isinstance(document, list):
        for item in document:
            found |= _values_of(item, key)
    return found


def _query_variants(parameters: list[dict]) -> list[dict[str, str]]:
    """No query, then each enumerated or boolean query parameter's values, one parameter at a time."""
    variants: list[dict[str, str]] = [{}]
    for parameter in parameters:
        if parameter["in"] != "query" or parameter["name"] in PAGING:
            continue
        schema = parameter.get("schema", {})
        values = schema.get("enum") or (["true", "false"] if schema.get("type") == "boolean" else [])
        variants += [{parameter["name"]: str(value)} for value in values]
    return variants


def _path_values(template: str, lists: dict[str, Any]) -> dict[str, list[str]]:
    """Values for each {variable} of a detail path: from the answer of the list path above it, or the
    variable's enum (file_type)."""
    values: dict[str, list[str]] = {}
    for variable in re.findall(r"{(\w+)}", template):
        head = template.split(f"{{{variable}}}")[0].rstrip("/")
        source = lists.get(head) or lists.get("/api/certificates" if variable == "domain" else head)
        values[variable] = sorted(_values_of(source, variable)) if source is not None else []
    return values


def _expand(template: str, values: dict[str, list[str]], enums: dict[str, list[str]]) -> list[str]:
    paths = [template]
    for variable in re.findall(r"{(\w+)}", template):
        choices = enums.get(variable) or values.get(variable) or []
        paths = [path.replace(f"{{{variable}}}", choice.replace("*", "%2A")) for path in paths for choice in choices]
    return paths


def api_get_operations(schema: dict) -> list[tuple[str, list[dict]]]:
    return [(path, ops["get"].get("parameters", [])) for path, ops in schema["paths"].items() if "get" in ops]


def api_walk(
    *, schema: dict, host: str, admin_token: str, clients: dict[str, APIClient], brief: set[str], pfx_password: str
) -> Iterator[tuple[str, str, str, Any]]:
    """(client name, path template, URL with its query, response) for every GET in the schema and each
    client; the clients named in ``brief`` skip the query variants (anonymous or foreign callers, who get
    401s, and the anonymous rate limit is low).

    Lists are read first with the admin token, so detail paths get every object's id. A PKCS#12 download
    gets ``pfx_password`` in its header."""
    admin = APIClient()
    admin.defaults["HTTP_HOST"] = host
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_token}")
    operations = api_get_operations(schema)
    lists = {}
    for template, _parameters in operations:
        if "{" not in template:
            answer = admin.get(template)
            if answer.get("Content-Type", "").startswith("application/json"):
                lists[template] = answer.json()
    for template, parameters in operations:
        enums = {
            p["name"]: [str(v) for v in p.get("schema", {}).get("enum", [])]
            for p in parameters
            if p["in"] == "path" and p.get("schema", {}).get("enum")
        }
        urls = _expand(template, _path_values(template, lists), enums)
        variants = _query_variants(parameters)
        for name, client in clients.items():
            for url in urls:
                for query in variants if name not in brief else [{}]:
                    shown = f"{url}?{urlencode(query)}" if query else url
                    headers = {"HTTP_X_PFX_PASSWORD": pfx_password} if "pfx" in shown else {}
                    yield name, template, shown, client.get(url, query, **headers)


# -- the admin ----------------------------------------------------------------------------------------


def admin_pages(site: AdminSite, urlconf: str, objects_of: Callable[[type], list[Any]]) -> Iterator[str]:
    """The index, then every registered model's changelist, add page, and change and history pages of
    its objects (``objects_of(model)``, bounded)."""
    yield reverse(f"{site.name}:index", urlconf=urlconf)
    for model in site._registry:
        prefix = f"{site.name}:{model._meta.app_label}_{model._meta.model_name}"
        yield reverse(f"{prefix}_changelist", urlconf=urlconf)
        yield reverse(f"{prefix}_add", urlconf=urlconf)
        for obj in objects_of(model)[:MAX_OBJECTS_PER_MODEL]:
            for page in ("change", "history"):
                yield reverse(f"{prefix}_{page}", args=[obj.pk], urlconf=urlconf)


def admin_signed_in(host: str, email: str, password: str) -> Client:
    """A browser signed in through the admin's own login form (the password goes through the real path)."""
    client = Client(HTTP_HOST=host)
    response = client.post("/admin/login/", {"username": email, "password": password, "next": "/admin/"})
    assert response.status_code == 302, f"{email} could not sign in at {host}: {response.status_code}"
    return client
