"""Infisical, through the official SDK (infisicalsdk).

One secret per certificate, in the folder ``<path>/<tenant>/<kind>``; its key is the escaped identifier (letters,
digits, ``.``, ``-``, ``_``: no space or colon, which Infisical refuses) and its value the JSON of the bundle's files.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

import requests
from infisical_sdk import InfisicalSDKClient
from infisical_sdk.api_types import BaseSecret
from infisical_sdk.infisical_requests import APIError, InfisicalError
from requests.adapters import HTTPAdapter

from apps.storage.backends.base import KINDS, Bundle, IdentifierRefused, StorageBackend, StorageError, StoredItem
from apps.storage.backends.secrets_codec import bundle_from_text, encode_files, remote_summary
from apps.storage.naming import check_identifier, escape, unescape

MAX_KEY = 500  # the width of Infisical's key column
FOLDER_RE = re.compile(r"[A-Za-z0-9_-]+")  # Infisical's rule for a folder name
TIMEOUT = (10, 30)  # connect, read (seconds)
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_NOT_JSON = "Invalid JSON response"  # what the SDK raises for a 2xx answer that is not JSON (another service)


def _not_json(exc: BaseException) -> bool:
    """Whether the SDK failed because the answer was not JSON (then it was not Infisical that answered)."""
    return str(exc) == _NOT_JSON or any(
        isinstance(cause, requests.exceptions.JSONDecodeError) for cause in (exc, exc.__cause__, exc.__context__)
    )


class _TimeoutAdapter(HTTPAdapter):
    """The SDK sends its requests without a timeout; a server that stops answering must not hang a worker."""

    def send(self, request: Any, timeout: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().send(request, timeout=timeout or TIMEOUT, **kwargs)


class InfisicalBackend(StorageBackend):
    name = "infisical"
    location_fields = ("site_url", "project_id", "environment", "path")
    egress_url_fields = {"site_url": ("https", "http")}
    destination_fields = ("site_url",)
    label = "Infisical"
    setting_fields = {
        "site_url": "The Infisical server: https://app.infisical.com, https://eu.infisical.com or your own",
        "project_id": "The project's id (Project settings > Copy project id)",
        "environment": "The environment's slug",
        "path": "Folder for CertMate's secrets; a folder per tenant and kind is created inside it",
    }
    credential_fields = {
        "client_id": "Universal auth client id of a machine identity with access to the project",
        "client_secret": "Universal auth client secret of that machine identity",
        "token": "An access token, instead of a client id and secret",
    }
    defaults = {"site_url": "https://app.infisical.com", "environment": "prod", "path": "/certmate"}
    # Infisical keeps every value of a secret, but finds an old one by folder, key and number, so a certificate
    # deleted and issued again would answer with the deleted one's versions; and the SDK cannot list versions.
    keeps_versions = False

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._client: InfisicalSDKClient | None = None
        self._renew_at = 0.0

    def store(self, bundle: Bundle) -> None:
        key, folder = self._address(bundle.kind, bundle.identifier)
        value = encode_files(bundle)
        with self._errors(f"storing {bundle.kind}/{bundle.identifier}"):
            current = self._get(key, folder)
            if current is not None:
                if current.secretValue != value:
                    self._sdk.secrets.update_secret_by_name(
                        current_secret_name=key, secret_path=folder, secret_value=value, **self._scope
                    )
                return
            try:
                self._create(key, folder, value)
            except APIError as exc:
                if exc.status_code != 404:
                    raise
                self._create_folder(bundle.kind)  # the first certificate of this tenant and kind
                self._create(key, folder, value)

    def read(self, kind: str, identifier: str, version: int | None = None) -> Bundle | None:
        key, folder = self._address(kind, identifier)
        with self._errors(f"reading {kind}/{identifier}"):
            secret = self._get(key, folder)
        if secret is None:
            return None
        bundle = bundle_from_text(kind, identifier, secret.secretValue)
        return bundle if version in (None, bundle.version) else None  # only the current version is kept

    def list(self) -> list[StoredItem]:
        items = []
        with self._errors("listing secrets"):
            for kind in KINDS:
                for secret in self._list(self._folder(kind)):
                    try:
                        identifier = unescape(secret.secretKey)
                        if escape(identifier) != secret.secretKey:
                            continue  # a key CertMate would not write (a leading dot), so read() would not find it
                        version = bundle_from_text(kind, identifier, secret.secretValue).version
                    except (ValueError, StorageError):
                        continue  # not written by CertMate
                    items.append(StoredItem(kind, identifier, version))
        return items

    def delete(self, kind: str, identifier: str) -> None:
        key, folder = self._address(kind, identifier)
        with self._errors(f"deleting {kind}/{identifier}"):
            try:
                self._sdk.secrets.delete_secret_by_name(secret_name=key, secret_path=folder, **self._scope)
            except APIError as exc:
                if exc.status_code != 404:
                    raise

    def test_connection(self) -> None:
        with self._errors("listing folders"):
            self._sdk.folders.list_folders(path="/", **self._scope)  # refused for a wrong project or environment

    def describe(self) -> str:
        settings = self.settings
        return f"{self.label} {settings['site_url']}, project {settings.get('project_id')}, {settings['environment']}"

    # --- internals -----------------------------------------------------------------------------------------

    @property
    def _sdk(self) -> InfisicalSDKClient:
        """Signed in, and signed in again shortly before the access token expires."""
        if self._client is None or time.monotonic() >= self._renew_at:
            self._client = self._sign_in()
        return self._client

    def _sign_in(self) -> InfisicalSDKClient:
        url = urlparse(str(self.settings["site_url"]))
        if not url.hostname or not (url.scheme == "https" or (url.scheme == "http" and url.hostname in LOOPBACK)):
            raise StorageError(f"site_url {self.settings['site_url']!r} must be an https URL", transient=False)
        # No cache: a secret another worker just wrote must be seen at once.
        client = InfisicalSDKClient(host=str(self.settings["site_url"]), cache_ttl=None)
        for scheme in ("https://", "http://"):
            client.api.session.mount(scheme, _TimeoutAdapter())
        client_id, client_secret = self.credentials.get("client_id"), self.credentials.get("client_secret")
        token = self.credentials.get("token")
        if client_id and client_secret:
            login = client.auth.universal_auth.login(client_id=client_id, client_secret=client_secret)
            self._renew_at = time.monotonic() + max(login.expiresIn - 60, 0)
        elif token:
            client.auth.token_auth.login(token=token)
            self._renew_at = float("inf")
        else:
            raise StorageError("give a client_id and client_secret (universal auth), or a token", transient=False)
        return client

    @property
    def _scope(self) -> dict[str, str]:
        project_id = str(self.settings.get("project_id") or "")
        if not project_id:
            raise StorageError("project_id is missing: copy it from the project's settings", transient=False)
        return {"project_id": project_id, "environment_slug": str(self.settings["environment"])}

    def _folder(self, kind: str) -> str:
        base = [part for part in str(self.settings["path"]).split("/") if part]
        if not all(FOLDER_RE.fullmatch(part) for part in base):
            raise StorageError(
                f"path {self.settings['path']!r} is invalid: use folder names of letters, digits, - and _",
                transient=False,
            )
        return "/" + "/".join([*base, self.tenant, kind])

    def _address(self, kind: str, identifier: str) -> tuple[str, str]:
        check_identifier(kind, identifier)
        key = escape(identifier)
        if len(key) > MAX_KEY:
            raise IdentifierRefused(f"identifier {identifier[:40]!r}… is too long for an Infisical secret name")
        return key, self._folder(kind)

    def _get(self, key: str, folder: str) -> BaseSecret | None:
        try:
            return self._sdk.secrets.get_secret_by_name(
                secret_name=key,
                secret_path=folder,
                expand_secret_references=False,  # a ${...} in a value is data, not a reference
                include_imports=False,
                **self._scope,
            )
        except APIError as exc:
            if exc.status_code == 404:  # no such secret, or no such folder yet
                return None
            raise

    def _list(self, folder: str) -> list[BaseSecret]:
        try:
            return self._sdk.secrets.list_secrets(
                secret_path=folder, expand_secret_references=False, include_imports=False, **self._scope
            ).secrets
        except APIError as exc:
            if exc.status_code == 404:  # the folder does not exist until the first certificate is stored
                return []
            raise

    def _create(self, key: str, folder: str, value: str) -> None:
        self._sdk.secrets.create_secret_by_name(secret_name=key, secret_path=folder, secret_value=value, **self._scope)

    def _create_folder(self, kind: str) -> None:
        parent, _, name = self._folder(kind).rpartition("/")
        try:  # Infisical creates the missing parents too
            self._sdk.folders.create_folder(name=name, path=parent, **self._scope)
        except APIError as exc:
            if exc.status_code != 400:  # 400: it exists, made meanwhile by another worker
                raise

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        # The SDK retries a refused connection four times, sleeping 1, 2, 4 and 8 seconds, before it raises.
        try:
            yield
        except StorageError:
            raise
        except APIError as exc:
            if exc.status_code in (401, 403):
                hint = "check the client id and secret (or token) and the identity's access to the project"
                raise self._error(action, exc, hint, transient=False) from exc
            if exc.status_code == 429 or exc.status_code >= 500:
                raise self._error(action, exc, "Infisical is busy or failing; will try again", transient=True) from exc
            hint = "check the project id and environment" if exc.status_code == 404 else ""
            raise self._error(action, exc, hint, transient=False) from exc
        except (InfisicalError, requests.RequestException, OSError) as exc:
            if _not_json(exc):
                raise self._not_infisical(action) from None
            raise self._error(action, exc, "Infisical could not be reached; will try again", transient=True) from exc
        except (KeyError, TypeError, AttributeError, ValueError):  # the SDK reading an answer of another shape
            raise self._not_infisical(action) from None

    def _not_infisical(self, action: str) -> StorageError:
        return StorageError(
            f"Infisical {self.settings['site_url']}: {action} failed: the answer is not Infisical's API; "
            "check the site_url",
            transient=False,
        )

    def _error(self, action: str, exc: Exception, hint: str, *, transient: bool) -> StorageError:
        if isinstance(exc, APIError):
            # Infisical's JSON error carries its message beside statusCode; a body that was not JSON (another
            # service) comes back from the SDK as {"message": <the page>}, which is never shown.
            answer = exc.response if isinstance(exc.response, dict) else {}
            said = answer.get("message") if len(answer) > 1 and isinstance(answer.get("message"), str) else ""
            detail = f"HTTP {exc.status_code}" + (f" {said}" if said else "")
        else:
            detail = (str(exc) or type(exc).__name__).strip().splitlines()[0]
        detail = remote_summary(detail, [self.credentials.get(name) for name in ("client_secret", "token")])
        reason = f"Infisical {self.settings['site_url']}: {action} failed: {detail}"
        return StorageError(f"{reason} ({hint})" if hint else reason, transient=transient)
