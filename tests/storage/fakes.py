"""Local servers speaking the REST calls of Azure Key Vault (with Entra ID) and Infisical, for the official SDKs.

Neither service runs locally, so the backends are tested through their real SDKs against these: the fakes keep the
JSON field names, status codes and error bodies the SDKs parse, and refuse wrong credentials as the services do.
Each runs in a background thread on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import trustme

Response = tuple[int, dict[str, str], Any]  # status, headers, JSON body (None: no body)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body or b"{}")

    def bearer(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        # Headers and body leave in two writes: without this, Nagle's algorithm delays every answer by 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()  # here, in the connection's thread, not in the accepting one
        super().setup()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            self.command, unquote(url.path), dict(parse_qsl(url.query)), self.headers, self.rfile.read(length)
        )
        with self.server.fake.lock:
            status, headers, payload = self.server.fake.handle(request)
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    ssl_context: ssl.SSLContext | None = None

    def get_request(self):
        sock, address = super().get_request()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):  # a client that hung up or distrusts us
            super().handle_error(request, client_address)


class _FakeServer:
    """Runs ``handle`` for every request, one at a time (the lock keeps the state simple)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        self.lock = threading.Lock()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._httpd.ssl_context = ssl_context
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=type(self).__name__, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def handle(self, request: Request) -> Response:
        raise NotImplementedError


def _now() -> int:
    return int(time.time())


# --- Azure Key Vault ----------------------------------------------------------------------------------------------

_KV_NAME = re.compile(r"[0-9a-zA-Z-]{1,127}")
KV_CLIENT_SECRET = "kv-Sup3r~Secret.Value"


def _aad_error(status: int, error: str, description: str) -> Response:
    return status, {}, {"error": error, "error_description": description}


def _kv_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return status, headers or {}, {"error": {"code": code, "message": message}}


class FakeKeyVault(_FakeServer):
    """A vault with soft-delete on, and the Entra ID endpoints ClientSecretCredential signs in with (authority =
    this server, so ``disable_instance_discovery`` is needed, as for any non-Microsoft authority).

    As the real service: an unauthenticated request gets 401 with a challenge naming the authority and resource;
    each PUT adds a version; a deleted secret stays soft-deleted, readable only under /deletedsecrets, and its name
    is refused with 409 until it is purged or recovered; with purge protection a purge is refused with 403.
    """

    def __init__(
        self,
        *,
        tenant_id: str = "8f2c1c7e-3c1d-4c55-9d59-3d1e4d1b2a10",
        client_id: str = "0a6b2f3e-5d4c-4b3a-8e7f-123456789abc",
        client_secret: str = KV_CLIENT_SECRET,
        page_size: int = 25,
        purge_protection: bool = False,
    ):
        self.ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        super().__init__(context)
        self._ca_dir = tempfile.TemporaryDirectory()
        self.ca_path = Path(self._ca_dir.name) / "fake-azure-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        self.tenant_id, self.client_id, self.client_secret = tenant_id, client_id, client_secret
        self.page_size, self.purge_protection = page_size, purge_protection
        # Key Vault's resource is the vault host minus its own label (vault.azure.net for x.vault.azure.net); the
        # SDK checks the vault host ends with it, which here makes it "0.0.1:<port>".
        self.resource = "https://" + self.url.removeprefix("https://").split(".", 1)[1]
        self.tokens: set[str] = set()
        self.secrets: dict[str, dict[str, Any]] = {}  # lowercased name -> {"name", "versions": [newest last]}
        self.deleted: dict[str, dict[str, Any]] = {}  # the same, plus "deletedDate"
        self.failing_with: int | None = None  # answer every vault request with this status (an outage)

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        self._ca_dir.cleanup()

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if parts[0] in ("secrets", "deletedsecrets"):
            return self._vault(request, parts)
        return self._identity(request, parts[0], "/".join(parts[1:]))

    # Entra ID: OpenID discovery and the client-credentials grant.
    def _identity(self, request: Request, tenant: str, rest: str) -> Response:
        if tenant != self.tenant_id:
            return _aad_error(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")
        base = f"{self.url}/{tenant}"
        if request.method == "GET" and rest == "v2.0/.well-known/openid-configuration":
            configuration = {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            }
            return 200, {}, configuration
        if request.method == "POST" and rest == "oauth2/v2.0/token":
            return self._token(dict(parse_qsl(request.body.decode())))
        return _aad_error(404, "not_found", f"AADSTS90027: no endpoint {rest}")

    def _token(self, form: dict[str, str]) -> Response:
        if form.get("grant_type") != "client_credentials":
            return _aad_error(
                400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
            )
        if form.get("client_id") != self.client_id:
            description = f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found."
            return _aad_error(400, "unauthorized_client", description)
        if form.get("client_secret") != self.client_secret:
            description = (
                "AADSTS7000215: Invalid client secret provided. "
                "Ensure the secret being sent in the request is the client secret value."
            )
            return _aad_error(401, "invalid_client", description)
        if form.get("scope") != f"{self.resource}/.default":
            return _aad_error(
                400, "invalid_scope", f"AADSTS70011: The provided scope {form.get('scope')} is not valid."
            )
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, {}, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}

    # Key Vault.
    def _vault(self, request: Request, parts: list[str]) -> Response:
        if request.bearer() not in self.tokens:
            challenge = f'Bearer authorization="{self.url}/{self.tenant_id}", resource="{self.resource}"'
            message = "AKV10000: Request is missing a Bearer or PoP token."
            return _kv_error(401, "Unauthorized", message, {"WWW-Authenticate": challenge})
        if self.failing_with:
            return _kv_error(self.failing_with, "ServiceUnavailable", "The service is unavailable.")
        if "api-version" not in request.query:
            return _kv_error(400, "BadParameter", "The request URI must contain an api-version.")
        collection, name, rest = parts[0], (parts[1:2] or [""])[0], parts[2:]
        if not name:
            return self._list(request, "/secrets", self.secrets.values(), versions=False)
        if not _KV_NAME.fullmatch(name):
            return _kv_error(400, "BadParameter", f"The request URI contains an invalid name: {name}")
        key = name.lower()
        route = (collection, request.method, rest[0] if rest else "")
        if route == ("secrets", "PUT", ""):
            return self._set(name, request.json())
        if route[0] == "secrets" and key not in self.secrets:
            return _kv_error(404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault.")
        if route[0] == "deletedsecrets" and key not in self.deleted:
            return _kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")
        if route == ("secrets", "GET", "versions"):
            entry = self.secrets[key]
            return self._list(request, f"/secrets/{name}/versions", [entry], versions=True)
        if route[:2] == ("secrets", "GET"):
            return self._get(self.secrets[key], rest[0] if rest else None)
        if route == ("secrets", "DELETE", ""):
            entry = self.deleted[key] = {**self.secrets.pop(key), "deletedDate": _now()}
            return 200, {}, self._deleted_bundle(entry)
        if route == ("deletedsecrets", "GET", ""):
            return 200, {}, self._deleted_bundle(self.deleted[key])
        if route == ("deletedsecrets", "DELETE", ""):
            if self.purge_protection:
                message = (
                    f'Operation "purge" is not allowed because purge protection is enabled for this vault ({name}).'
                )
                return _kv_error(403, "Forbidden", message)
            del self.deleted[key]
            return 204, {}, None
        if route == ("deletedsecrets", "POST", "recover"):
            entry = self.secrets[key] = self.deleted.pop(key)
            return 200, {}, self._bundle(entry, entry["versions"][-1])
        return _kv_error(405, "MethodNotAllowed", f"{request.method} {request.path}")

    def _set(self, name: str, body: dict[str, Any]) -> Response:
        key = name.lower()
        if key in self.deleted:
            message = (
                f"Secret {name} is currently in a deleted but recoverable state, and its name cannot be reused; "
                "in this state, the secret can only be recovered or purged."
            )
            return _kv_error(409, "Conflict", message)
        if len(body["value"].encode()) > 25 * 1024:
            return _kv_error(400, "BadParameter", "The secret value is larger than 25 KB.")
        tags = body.get("tags") or {}
        if len(tags) > 15 or any(len(value) > 256 for value in tags.values()):
            return _kv_error(400, "BadParameter", "Tags are limited to 15, each value to 256 characters.")
        version = {
            "version": uuid.uuid4().hex,
            "value": body["value"],
            "tags": tags,
            "contentType": body.get("contentType"),
            "created": _now(),
        }
        entry = self.secrets.setdefault(key, {"name": name, "versions": []})
        entry["versions"].append(version)
        return 200, {}, self._bundle(entry, version)

    def _get(self, entry: dict[str, Any], version_id: str | None) -> Response:
        versions = [v for v in entry["versions"] if version_id in (None, v["version"])]
        if not versions:
            return _kv_error(
                404, "SecretNotFound", f"A secret with (name/id) {entry['name']}/{version_id} was not found."
            )
        return 200, {}, self._bundle(entry, versions[-1])

    def _list(self, request: Request, path: str, entries: Any, *, versions: bool) -> Response:
        items = []
        for entry in sorted(entries, key=lambda e: e["name"]):
            for version in entry["versions"] if versions else entry["versions"][-1:]:
                item = self._bundle(entry, version)
                del item["value"]
                if not versions:
                    item["id"] = f"{self.url}/secrets/{entry['name']}"
                items.append(item)
        size = int(request.query.get("maxresults") or self.page_size)
        start = int(request.query.get("$skiptoken") or 0)
        page = {"value": items[start : start + size], "nextLink": None}
        if start + size < len(items):
            api = request.query["api-version"]
            page["nextLink"] = f"{self.url}{path}?api-version={api}&$skiptoken={start + size}&maxresults={size}"
        return 200, {}, page

    def _bundle(self, entry: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        recovery_level = "Recoverable" if self.purge_protection else "Recoverable+Purgeable"
        return {
            "value": version["value"],
            "id": f"{self.url}/secrets/{entry['name']}/{version['version']}",
            "contentType": version["contentType"],
            "tags": version["tags"],
            "attributes": {
                "enabled": True,
                "created": version["created"],
                "updated": version["created"],
                "recoveryLevel": recovery_level,
                "recoverableDays": 90,
            },
        }

    def _deleted_bundle(self, entry: dict[str, Any]) -> dict[str, Any]:
        bundle = self._bundle(entry, entry["versions"][-1])
        del bundle["value"]
        return {
            **bundle,
            "recoveryId": f"{self.url}/deletedsecrets/{entry['name']}",
            "deletedDate": entry["deletedDate"],
            "scheduledPurgeDate": entry["deletedDate"] + 90 * 86400,
        }


# --- Infisical ----------------------------------------------------------------------------------------------------

_FOLDER_NAME = re.compile(r"[a-zA-Z0-9_-]+")
INFISICAL_CLIENT_SECRET = "inf-Sup3r~Secret.Value"
INFISICAL_TOKEN = "st.static-service-token"


def _inf_error(status: int, error: str, message: str) -> Response:
    body = {"reqId": f"req-{uuid.uuid4().hex[:12]}", "statusCode": status, "message": message, "error": error}
    return status, {}, body


def _path(value: str | None) -> str:
    """Infisical's removeTrailingSlash / prefixWithSlash."""
    return "/" + (value or "/").strip().strip("/")


def _iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class FakeInfisical(_FakeServer):
    """One Infisical project: universal-auth login, v3 raw secrets and v2 folders, as infisicalsdk calls them.

    As the real service: secrets live in folders that must exist (404 otherwise); creating a folder creates its
    missing parents and refuses an existing one (400); a value's surrounding whitespace is trimmed (keeping one
    trailing newline); a key may not contain spaces or colons, and at most 500 characters fit its column.
    """

    def __init__(
        self,
        *,
        project_id: str = "6a1f0c3e-2b4d-4e8f-9a7b-5c6d7e8f9a0b",
        environments: tuple[str, ...] = ("prod", "dev"),
        client_id: str = "3d2c1b0a-9f8e-4d7c-b6a5-443322110000",
        client_secret: str = INFISICAL_CLIENT_SECRET,
        token: str = INFISICAL_TOKEN,
    ):
        super().__init__()
        self.project_id, self.client_id, self.client_secret = project_id, client_id, client_secret
        self.environments = set(environments)
        self.tokens = {token}
        self.folders: set[tuple[str, str]] = {(environment, "/") for environment in environments}
        self.secrets: dict[tuple[str, str, str], dict[str, Any]] = {}  # (environment, path, key) -> secret

    def handle(self, request: Request) -> Response:
        if request.path == "/api/v1/auth/universal-auth/login" and request.method == "POST":
            return self._login(request.json())
        if not request.bearer():
            return _inf_error(401, "UnauthorizedError", "Token missing")
        if request.bearer() not in self.tokens:
            return _inf_error(403, "TokenError", "The provided access token is malformed. Please use a valid token.")
        params = request.query if request.method == "GET" else request.json()
        project = params.get("workspaceId") or params.get("projectId")
        if project != self.project_id:
            name = f"Identity is not a member of the specified project with ID '{project}'"
            return _inf_error(403, name, "You are not allowed to access this resource")
        if request.path == "/api/v2/folders":
            return self._folders(request.method, params)
        match = re.fullmatch(r"/api/v3/secrets/raw(?:/([^/]+))?", request.path)
        if match is None:
            return _inf_error(404, "NotFound", f"Route {request.method}:{request.path} not found")
        environment, path = params.get("environment", ""), _path(params.get("secretPath"))
        if (environment, path) not in self.folders:
            message = f"Folder with path '{path}' in environment with slug '{environment}' not found"
            return _inf_error(404, "NotFound", message)
        key = match.group(1)
        if key is None:
            found = [self._raw(k, s) for k, s in sorted(self.secrets.items()) if k[:2] == (environment, path)]
            return 200, {}, {"secrets": found, "imports": []}
        return self._secret(request.method, (environment, path, key), params)

    def _login(self, body: dict[str, Any]) -> Response:
        if (body.get("clientId"), body.get("clientSecret")) != (self.client_id, self.client_secret):
            return _inf_error(401, "UnauthorizedError", "Invalid credentials")
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, {}, {"accessToken": token, "expiresIn": 7200, "accessTokenMaxTTL": 43200, "tokenType": "Bearer"}

    def _secret(self, method: str, address: tuple[str, str, str], params: dict[str, Any]) -> Response:
        key = address[2]
        current = self.secrets.get(address)
        if method == "GET" or method == "DELETE":
            if current is None:
                return _inf_error(404, "NotFound", f"Secret with name '{key}' not found")
            if method == "DELETE":
                del self.secrets[address]
            return 200, {}, {"secret": self._raw(address, current)}
        value = str(params.get("secretValue", ""))
        value = value.strip() + "\n" if value.endswith("\n") else value.strip()  # the service's own transform
        if method == "POST":
            if " " in key or ":" in key:
                return _inf_error(422, "ValidationFailure", "Secret name cannot contain spaces or colons.")
            if len(key) > 500:
                return _inf_error(500, "DatabaseError", "Something went wrong")
            if current is not None:
                return _inf_error(400, "BadRequestError", "Secret already exists")
            current = self.secrets[address] = {"id": str(uuid.uuid4()), "version": 0, "createdAt": _iso()}
        elif current is None:
            return _inf_error(404, "NotFound", f"Secret with name {key} not found")
        current.update(value=value, version=current["version"] + 1, updatedAt=_iso())
        return 200, {}, {"secret": self._raw(address, current)}

    def _raw(self, address: tuple[str, str, str], secret: dict[str, Any]) -> dict[str, Any]:
        environment, path, key = address
        return {
            "id": secret["id"],
            "_id": secret["id"],
            "workspace": self.project_id,
            "environment": environment,
            "version": secret["version"],
            "type": "shared",
            "secretKey": key,
            "secretValue": secret["value"],
            "secretComment": "",
            "secretReminderNote": None,
            "secretReminderRepeatDays": None,
            "skipMultilineEncoding": False,
            "createdAt": secret["createdAt"],
            "updatedAt": secret["updatedAt"],
            "secretPath": path,
            "tags": [],
            "secretMetadata": [],
        }

    def _folders(self, method: str, params: dict[str, Any]) -> Response:
        environment, path = params.get("environment", ""), _path(params.get("path"))
        if environment not in self.environments:
            return _inf_error(404, "NotFound", f"Environment with slug '{environment}' not found")
        if method == "GET":
            children = sorted(
                f for e, f in self.folders if e == environment and f != "/" and f.rpartition("/")[0] == path.rstrip("/")
            )
            return 200, {}, {"folders": [self._folder(environment, f) for f in children]}
        if method != "POST":
            return _inf_error(404, "NotFound", f"Route {method}:/api/v2/folders not found")
        name = str(params.get("name", "")).strip()
        if not _FOLDER_NAME.fullmatch(name):
            message = "Invalid folder name. Only alphanumeric characters, dashes, and underscores are allowed."
            return _inf_error(422, "ValidationFailure", message)
        full = f"{path.rstrip('/')}/{name}"
        if (environment, full) in self.folders:
            return _inf_error(400, "BadRequestError", f"Folder with name '{name}' already exists in path '{path}'")
        segments = full.strip("/").split("/")
        for depth in range(1, len(segments) + 1):  # missing parents are created too
            self.folders.add((environment, "/" + "/".join(segments[:depth])))
        return 200, {}, {"folder": {**self._folder(environment, full), "path": full}}

    def _folder(self, environment: str, path: str) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{environment}:{path}")),
            "name": path.rpartition("/")[2],
            "createdAt": _iso(),
            "updatedAt": _iso(),
            "envId": str(uuid.uuid5(uuid.NAMESPACE_URL, environment)),
            "version": 1,
            "parentId": None,
            "isReserved": False,
            "description": None,
            "lastSecretModified": None,
        }


class Listener(_FakeServer):
    """Any host a stored secret must not reach: records every request and refuses it."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Request] = []

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        return 403, {}, {"errors": ["permission denied"]}

    def heard(self, secret: str) -> bool:
        return any(secret in str(dict(r.headers)) or secret.encode() in r.body for r in self.requests)
