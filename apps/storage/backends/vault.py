"""HashiCorp Vault (or OpenBao) KV storage: one secret per certificate at
``<mount>/<path_prefix>/<tenant>/<kind>/<escaped identifier>``, its keys the bundle's file names.

KV v2 keeps earlier versions, and read(version=N) finds the KV version whose metadata.json says N;
KV v1 keeps only the current one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import hvac
import requests
from hvac import exceptions as vault_errors

from apps.storage.backends.base import KINDS, Bundle, StorageBackend, StorageError, StoredItem
from apps.storage.backends.secrets_codec import bundle_from_secret, parse_secret_name, remote_summary, tenant_folder
from apps.storage.naming import secret_name

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Worth another try later: Vault overloaded, restarting, a standby not caught up, a failing proxy.
_TRANSIENT = (
    vault_errors.InternalServerError,
    vault_errors.BadGateway,
    vault_errors.RateLimitExceeded,
    vault_errors.PreconditionFailed,
    vault_errors.UnexpectedError,
)
_STATUS = {
    vault_errors.InvalidRequest: 400,
    vault_errors.Unauthorized: 401,
    vault_errors.Forbidden: 403,
    vault_errors.InvalidPath: 404,
    vault_errors.PreconditionFailed: 412,
    vault_errors.RateLimitExceeded: 429,
    vault_errors.InternalServerError: 500,
    vault_errors.VaultNotInitialized: 501,
    vault_errors.BadGateway: 502,
    vault_errors.VaultDown: 503,
}
# What hvac raises, or what reading its answer raises, when the server does not speak Vault's JSON API.
_NOT_VAULT = (KeyError, TypeError, AttributeError, ValueError)


# Each answer from Vault is waited for this long at most: a tenant's slow Vault holds a shared worker.
MIN_TIMEOUT, MAX_TIMEOUT = 1, 30
AUTH_METHODS = ("token", "approle")


class VaultBackend(StorageBackend):
    name = "hashicorp_vault"
    location_fields = ("url", "mount", "path_prefix", "namespace")
    egress_url_fields = {"url": ("https", "http")}
    destination_fields = ("url", "namespace", "verify_tls", "ca_bundle")
    label = "HashiCorp Vault"
    setting_fields = {
        "url": "Vault's address, e.g. https://vault.example.com:8200",
        "mount": "mount path of the KV secrets engine",
        "kv_version": "1 or 2, the KV engine's version (only 2 keeps earlier versions)",
        "path_prefix": "folder inside the mount for CertMate's secrets",
        "auth_method": "token or approle",
        "namespace": "Vault Enterprise or OpenBao namespace (optional)",
        "verify_tls": "verify Vault's TLS certificate",
        "ca_bundle": "PEM of the CA that signed Vault's certificate, when not a public one (optional)",
        "timeout": "seconds to wait for each answer from Vault",
    }
    credential_fields = {
        "token": "a Vault token (auth_method token)",
        "role_id": "the AppRole's role_id (auth_method approle)",
        "secret_id": "the AppRole's secret_id (auth_method approle)",
    }
    defaults = {
        "mount": "secret",
        "kv_version": 2,
        "path_prefix": "certmate",
        "auth_method": "token",
        "namespace": "",
        "verify_tls": True,
        "ca_bundle": "",
        "timeout": 10,
    }

    @classmethod
    def settings_problems(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        merged = {**cls.defaults, **settings}
        problems = {}
        timeout = merged["timeout"]
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not (MIN_TIMEOUT <= timeout <= MAX_TIMEOUT)
        ):
            problems["timeout"] = f"Vault timeout must be a number of seconds from {MIN_TIMEOUT} to {MAX_TIMEOUT}"
        if merged["auth_method"] not in AUTH_METHODS:
            problems["auth_method"] = f"Vault auth_method must be one of {', '.join(AUTH_METHODS)}"
        if merged["kv_version"] not in (1, 2, "1", "2"):
            problems["kv_version"] = "Vault kv_version must be 1 or 2"
        verify = merged["verify_tls"]
        if not isinstance(verify, bool) and str(verify).strip().lower() not in _FLAG_WORDS:
            problems["verify_tls"] = "Vault verify_tls must be true or false"
        url = merged.get("url")
        if url not in (None, "") and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
            problems["url"] = "Vault url must start with https:// (or http://)"
        return problems

    def __init__(self, *, tenant: str, settings: Mapping[str, Any], credentials: Mapping[str, Any]):
        super().__init__(tenant=tenant, settings=settings, credentials=credentials)
        self.url = str(self.settings.get("url") or "").rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise StorageError(f"Vault url {self.url!r} must start with https:// (or http://)", transient=False)
        self.mount = str(self.settings["mount"]).strip("/")
        self.kv_version = _kv_version(self.settings["kv_version"])
        self.keeps_versions = self.kv_version == 2  # per instance: it follows the configured engine
        try:
            self.timeout = float(self.settings["timeout"])
        except (TypeError, ValueError):
            raise StorageError(
                f"Vault timeout {self.settings['timeout']!r} is not a number of seconds", transient=False
            ) from None
        self.auth_method = self.settings["auth_method"]
        needed = {"token": ("token",), "approle": ("role_id", "secret_id")}.get(self.auth_method)
        if needed is None:
            raise StorageError(
                f"Vault auth_method {self.auth_method!r} is unknown: use token or approle", transient=False
            )
        # No fallback to VAULT_TOKEN or ~/.vault-token: those belong to the platform, not to a tenant.
        missing = [name for name in needed if not self.credentials.get(name)]
        if missing:
            raise StorageError(
                f"Vault {self.auth_method} authentication needs {' and '.join(missing)}", transient=False
            )
        self.folder = tenant_folder(self.settings["path_prefix"], tenant)
        self._client: hvac.Client | None = None
        self._ca_file: str | None = None

    def describe(self) -> str:
        return f"{self.label} ({self.url}, {self.mount}/{self.folder})"

    # --- the interface ---
    def store(self, bundle: Bundle) -> None:
        path = self._path(bundle.kind, bundle.identifier)
        files = bundle.files()
        if self.kv_version == 1:
            self._call(
                f"store {path}",
                lambda c: c.secrets.kv.v1.create_or_update_secret(path, files, method="PUT", mount_point=self.mount),
            )
            return
        if self._read_files(path) == files:
            return  # an equal KV version would only push real history out of max_versions
        self._call(
            f"store {path}", lambda c: c.secrets.kv.v2.create_or_update_secret(path, files, mount_point=self.mount)
        )

    def read(self, kind: str, identifier: str, version: int | None = None) -> Bundle | None:
        path = self._path(kind, identifier)
        if version is None or self.kv_version == 1:
            bundle = self._read_bundle(kind, identifier, path)
            return bundle if bundle is None or version in (None, bundle.version) else None
        for kv_version in self._kv_versions(path):
            bundle = self._read_bundle(kind, identifier, path, kv_version)
            if bundle is not None and bundle.version == version:
                return bundle
        return None

    def list(self) -> list[StoredItem]:
        items = []
        for kind in KINDS:
            for key in self._list_keys(f"{self.folder}/{kind}"):
                path = f"{self.folder}/{kind}/{key}"
                parsed = parse_secret_name(self.folder, path)
                if parsed is None:
                    continue  # a subfolder, or a name CertMate did not write
                try:
                    bundle = self._read_bundle(*parsed, path)
                except StorageError as exc:
                    if exc.transient:
                        raise
                    logger.warning("skipping %s: %s", path, exc.reason)  # damaged: the next store overwrites it
                    continue
                if bundle is not None:
                    items.append(StoredItem(kind, bundle.identifier, bundle.version))
        return items

    def delete(self, kind: str, identifier: str) -> None:
        path = self._path(kind, identifier)
        if self.kv_version == 1:
            self._call(f"delete {path}", lambda c: c.secrets.kv.v1.delete_secret(path, mount_point=self.mount))
        else:
            self._call(
                f"delete {path}",
                lambda c: c.secrets.kv.v2.delete_metadata_and_all_versions(path, mount_point=self.mount),
            )

    def test_connection(self) -> None:
        if not isinstance(
            self._field(self._call("look up its own token", lambda c: c.auth.token.lookup_self()), "data"), dict
        ):
            raise self._not_vault(200)
        try:
            mount = self._call("look up the mount", lambda c: c.adapter.get(f"/v1/sys/internal/ui/mounts/{self.mount}"))
        except StorageError as error:
            if error.transient:
                raise
            # Vault answers 403 alike for a missing mount and for one the token may not use.
            raise StorageError(
                f"{self._where()}: no such KV mount, or the token may not use it "
                f"(create it with: vault secrets enable -path={self.mount} -version={self.kv_version} kv)",
                transient=False,
            ) from error
        data = (mount or {}).get("data") or {}
        if data.get("type") not in ("kv", "generic"):
            raise StorageError(f"{self._where()} is a {data.get('type')!r} engine, not KV", transient=False)
        actual = str((data.get("options") or {}).get("version") or "1")
        if actual != str(self.kv_version):
            raise StorageError(
                f"{self._where()} is KV version {actual}, but kv_version is set to {self.kv_version}", transient=False
            )
        self._list_keys(self.folder)  # the policy must also let CertMate list its own folder

    # --- KV access ---
    def _path(self, kind: str, identifier: str) -> str:
        return secret_name(self.settings["path_prefix"], self.tenant, kind, identifier)

    def _read_files(self, path: str, kv_version: int | None = None) -> dict[str, Any] | None:
        if self.kv_version == 1:
            answer = self._call(f"read {path}", lambda c: c.secrets.kv.v1.read_secret(path, mount_point=self.mount))
            return None if answer is None else self._field(answer, "data")
        answer = self._call(
            f"read {path}",
            lambda c: c.secrets.kv.v2.read_secret_version(
                path, version=kv_version, mount_point=self.mount, raise_on_deleted_version=False
            ),
        )
        return None if answer is None else self._field(answer, "data", "data")  # None for a deleted version

    def _read_bundle(self, kind: str, identifier: str, path: str, kv_version: int | None = None) -> Bundle | None:
        files = self._read_files(path, kv_version)
        return None if files is None else bundle_from_secret(kind, identifier, files)

    def _kv_versions(self, path: str) -> list[int]:
        """The KV versions still readable, newest first: when a version was stored twice (re-issued),
        the later copy is the one that was published."""
        answer = self._call(
            f"list versions of {path}", lambda c: c.secrets.kv.v2.read_secret_metadata(path, self.mount)
        )
        if answer is None:
            return []
        versions = self._field(answer, "data", "versions")
        try:
            alive = [int(n) for n, info in versions.items() if not (info.get("deletion_time") or info.get("destroyed"))]
        except _NOT_VAULT:
            raise self._not_vault(200) from None
        return sorted(alive, reverse=True)

    def _list_keys(self, folder: str) -> list[str]:
        answer = self._call(f"list {folder}", lambda c: self._kv(c).list_secrets(folder, mount_point=self.mount))
        keys = [] if answer is None else self._field(answer, "data", "keys")
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise self._not_vault(200)
        return keys

    def _kv(self, client: hvac.Client) -> Any:
        return client.secrets.kv.v1 if self.kv_version == 1 else client.secrets.kv.v2

    # --- connection and errors ---
    def _call(self, action: str, operation: Callable[[hvac.Client], T]) -> T | None:
        """``operation`` on an authenticated client; None when Vault has nothing at that path."""
        try:
            try:
                answer = operation(self._connect())
            except vault_errors.Forbidden:
                if self.auth_method != "approle":
                    raise
                self._client = None  # the AppRole login's token may have expired: log in once more
                answer = operation(self._connect())
        except vault_errors.InvalidPath as error:
            if error.json is None:  # Vault answers 404 in JSON: this is some other service
                raise self._not_vault(404) from None
            if not error.errors:  # an empty 404 is "no secret here"; one with errors names a bad route
                return None
            raise self._error(action, error) from error
        except (vault_errors.VaultError, requests.RequestException) as error:
            raise self._error(action, error) from error
        except _NOT_VAULT:
            raise self._not_vault(200) from None
        if isinstance(answer, requests.Response):
            if answer.status_code != 204:  # hvac hands back a 200 whose body is not JSON as it is
                raise self._not_vault(answer.status_code)
            return None
        if answer is not None and not isinstance(answer, dict):
            raise self._not_vault(200)
        return answer

    def _field(self, answer: Any, *keys: str) -> Any:
        """``answer[keys[0]][keys[1]]…``, or a StorageError when the answer does not have Vault's shape."""
        try:
            for key in keys:
                answer = answer[key]
        except _NOT_VAULT:
            raise self._not_vault(200) from None
        return answer

    def _not_vault(self, status: int) -> StorageError:
        # Never the body: a URL pointing at another service must not make certmate read it out to the tenant.
        return StorageError(
            f"{self._where()} answered HTTP {status} with something that is not Vault's API; check the url",
            transient=False,
        )

    def _connect(self) -> hvac.Client:
        if self._client is None:
            client = hvac.Client(
                url=self.url,
                token=self.credentials.get("token") or "",  # never None: hvac would read VAULT_TOKEN
                namespace=self.settings["namespace"] or None,
                verify=self._verify(),
                timeout=self.timeout,
            )
            if self.auth_method == "approle":
                try:
                    client.auth.approle.login(
                        role_id=self.credentials["role_id"], secret_id=self.credentials["secret_id"]
                    )
                except (vault_errors.VaultError, requests.RequestException) as error:
                    raise self._error("log in with the AppRole", error) from error
                except _NOT_VAULT:
                    raise self._not_vault(200) from None
            self._client = client
        return self._client

    def _verify(self) -> bool | str:
        if not _flag(self.settings["verify_tls"]):
            return False
        pem = self.settings["ca_bundle"]
        if not pem:
            return True
        if self._ca_file is None:
            # requests only takes a CA bundle as a file; it lives as long as this backend.
            fd, self._ca_file = tempfile.mkstemp(prefix="certmate-vault-ca-", suffix=".pem")
            with os.fdopen(fd, "w") as handle:
                handle.write(pem)
            weakref.finalize(self, _remove, self._ca_file)
        return self._ca_file

    def _where(self) -> str:
        return f"Vault at {self.url} (mount {self.mount!r})"

    def _error(self, action: str, error: Exception) -> StorageError:
        where = self._where()
        if isinstance(error, requests.exceptions.SSLError):
            return StorageError(f"{where}: TLS verification failed; check the url and ca_bundle", transient=False)
        if isinstance(error, requests.exceptions.Timeout):
            return StorageError(f"{where} did not answer within {self.timeout:g}s while trying to {action}")
        if isinstance(error, requests.RequestException):
            return StorageError(f"{where} could not be reached to {action}: {type(error).__name__}")
        if not _vault_errors(error):
            status = _STATUS.get(type(error), 0)
            if isinstance(error, (*_TRANSIENT, vault_errors.VaultDown)):
                return StorageError(f"{where} answered HTTP {status or 'error'} while trying to {action}; retrying")
            return self._not_vault(status)
        secrets = [self.credentials.get(name) for name in ("token", "role_id", "secret_id")]
        # Vault's own error list (JSON), bounded to one short line; never any other part of the body.
        detail = remote_summary(", ".join(_vault_errors(error)), secrets)
        if isinstance(error, vault_errors.VaultDown):
            return StorageError(f"{where} is sealed or unavailable, could not {action}: {detail}")
        if isinstance(error, _TRANSIENT):
            return StorageError(f"{where} failed to {action}: {detail}")
        if isinstance(error, vault_errors.Forbidden | vault_errors.Unauthorized):
            what = "token" if self.auth_method == "token" else "AppRole login"
            return StorageError(
                f"{where} refused to {action} ({detail}): check the {what} and its policy", transient=False
            )
        return StorageError(f"{where} could not {action}: {detail}", transient=False)


def _vault_errors(error: Exception) -> list[str]:
    errors = getattr(error, "errors", None)
    return [str(item) for item in errors] if isinstance(errors, list) and errors else []


def _kv_version(value: Any) -> int:
    if str(value) not in ("1", "2"):
        raise StorageError(f"Vault kv_version {value!r} is unknown: use 1 or 2", transient=False)
    return int(value)


_FLAG_WORDS = ("true", "false", "1", "0", "yes", "no", "on", "off")


def _flag(value: Any) -> bool:
    # Settings may come from a form or an environment variable as text.
    return value.strip().lower() not in ("false", "0", "no", "off", "") if isinstance(value, str) else bool(value)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


__all__ = ["VaultBackend"]
