"""Azure Key Vault, through the official SDK (azure-keyvault-secrets and azure-identity).

One secret per certificate; its value is the JSON of the bundle's files. Every change is a new Key Vault
version tagged with CertMate's version number, so an earlier version can be read back by that number.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any
from urllib.parse import urlparse

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.identity import AzureAuthorityHosts, ClientSecretCredential, DefaultAzureCredential
from azure.keyvault.secrets import KeyVaultSecret, SecretClient

from apps.storage.backends.base import Bundle, StorageBackend, StorageError, StoredItem
from apps.storage.backends.secrets_codec import bundle_from_text, encode_files, remote_summary
from apps.storage.naming import check_identifier
from certmate.egress import platform_identity

MAX_NAME = 127  # Key Vault's limit on a secret name
PREFIX_RE = re.compile(r"[a-z][a-z0-9]{0,23}")
TAG_TENANT, TAG_KIND, TAG_IDENTIFIER, TAG_VERSION = (
    "certmate-tenant",
    "certmate-kind",
    "certmate-identifier",
    "certmate-version",
)
CONTENT_TYPE = "application/json"
_KIND_LETTERS = {"server": "s", "client": "c"}
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")
_MICROSOFT_HOSTS = {
    AzureAuthorityHosts.AZURE_PUBLIC_CLOUD,
    AzureAuthorityHosts.AZURE_CHINA,
    AzureAuthorityHosts.AZURE_GOVERNMENT,
}
# The caller retries transient errors with its own backoff: the SDK only smooths over a blip.
_CLIENT_OPTIONS = {"retry_total": 2, "retry_backoff_factor": 0.5, "connection_timeout": 10, "read_timeout": 30}
# Statuses worth retrying later: throttling, the service failing, a name still being deleted or purged.
_TRANSIENT_STATUSES = {408, 409, 429}


def _encode(text: str) -> str:
    """Lowercase letters and digits as they are, every other byte as ``-xx``: a dash is always followed by two hex
    digits, and nothing depends on case (Key Vault names are case-insensitive)."""
    return "".join(chr(byte) if byte in _PLAIN else f"-{byte:02x}" for byte in text.encode("utf-8", "surrogatepass"))


def secret_name(prefix: str, tenant: str, kind: str, identifier: str) -> str:
    """``<prefix>-<tenant>-<s|c>-<identifier>``, encoded; a dash followed by a non-hex character can only be a
    separator, so two certificates never share a name. Past 127 characters the name is
    ``<prefix>-h-<sha256, base32>``: exactly two dashes, where a readable name has at least three, so the two forms
    never meet. The identifier itself is kept in the secret's tags either way."""
    check_identifier(kind, identifier)
    readable = f"{prefix}-{_encode(tenant)}-{_KIND_LETTERS[kind]}-{_encode(identifier)}"
    if len(readable) <= MAX_NAME:
        return readable
    digest = hashlib.sha256(f"{tenant}/{kind}/{identifier}".encode("utf-8", "surrogatepass")).digest()
    return f"{prefix}-h-{base64.b32encode(digest).decode().rstrip('=').lower()}"


class _PlatformIdentity(DefaultAzureCredential):
    """The machine's managed identity (or the platform's environment credentials), lent to tenants where the
    platform allows it: tokens are fetched from where the platform's environment says, outside the egress rule
    that guards the tenant's vault."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        with platform_identity():
            return super().get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        with platform_identity():
            return super().get_token_info(*scopes, **kwargs)


class AzureKeyVaultBackend(StorageBackend):
    name = "azure_keyvault"
    location_fields = ("vault_url", "prefix")
    egress_url_fields = {"vault_url": ("https",), "authority_host": ("https",)}
    destination_fields = ("vault_url", "authority_host")
    label = "Azure Key Vault"
    setting_fields = {
        "vault_url": "The vault's URL, https://<vault name>.vault.azure.net",
        "prefix": "Start of every secret name CertMate writes: a lowercase letter, then letters or digits (24 at most)",
        "authority_host": "Microsoft Entra sign-in URL for the service principal given; change it only for a national "
        "cloud or Azure Stack (the platform's own identity, when lent, uses the platform's authority)",
    }
    credential_fields = {
        "tenant_id": "Directory (tenant) id of the service principal. Leave all three empty to use the managed "
        "identity or the environment's Azure credentials",
        "client_id": "Application (client) id of the service principal",
        "client_secret": "A client secret of the service principal",
    }
    defaults = {"prefix": "certmate", "authority_host": f"https://{AzureAuthorityHosts.AZURE_PUBLIC_CLOUD}"}
    platform_credentials_fallback = True

    def store(self, bundle: Bundle) -> None:
        client, name = self._client, self._name(bundle.kind, bundle.identifier)
        value = encode_files(bundle)
        tags = {
            TAG_TENANT: self.tenant,
            TAG_KIND: bundle.kind,
            TAG_IDENTIFIER: bundle.identifier,
            TAG_VERSION: str(bundle.version),
        }
        with self._errors(f"storing {bundle.kind}/{bundle.identifier}"):
            current = self._get(name)
            if current is not None and current.value == value and current.properties.tags == tags:
                return  # a second identical Key Vault version would only add noise to its history
            try:
                client.set_secret(name, value, tags=tags, content_type=CONTENT_TYPE)
            except ResourceExistsError:
                # The name is soft-deleted: Key Vault refuses it until the old secret is purged or recovered.
                self._free_deleted_name(name)
                client.set_secret(name, value, tags=tags, content_type=CONTENT_TYPE)

    def read(self, kind: str, identifier: str, version: int | None = None) -> Bundle | None:
        name = self._name(kind, identifier)
        with self._errors(f"reading {kind}/{identifier}"):
            secret = self._get(name)
            current_version = (secret.properties.tags or {}).get(TAG_VERSION) if secret is not None else None
            if secret is not None and version is not None and current_version != str(version):
                secret = self._get_version(name, version)
        if secret is None:
            return None
        return bundle_from_text(kind, identifier, secret.value or "")

    def list(self) -> list[StoredItem]:
        items, start = [], f"{self._prefix}-"
        with self._errors("listing secrets"):
            for properties in self._client.list_properties_of_secrets():
                tags = properties.tags or {}
                if not (properties.name or "").startswith(start) or tags.get(TAG_TENANT) != self.tenant:
                    continue
                try:
                    items.append(StoredItem(tags[TAG_KIND], tags[TAG_IDENTIFIER], int(tags[TAG_VERSION])))
                except (KeyError, ValueError):
                    continue  # not written by CertMate
        return items

    def delete(self, kind: str, identifier: str) -> None:
        client, name = self._client, self._name(kind, identifier)
        with self._errors(f"deleting {kind}/{identifier}"):
            try:
                poller = client.begin_delete_secret(name)
            except ResourceNotFoundError:
                return
            if poller.result().recovery_id is None:
                return  # soft-delete is off: the secret is gone for good already
            poller.wait()  # Key Vault refuses to purge until the deletion has completed
            try:
                client.purge_deleted_secret(name)
            except HttpResponseError as exc:
                if exc.status_code != 403:
                    raise
                # Purge protection: the secret stays soft-deleted until Key Vault purges it; store() recovers the name.

    def test_connection(self) -> None:
        self._prefix  # noqa: B018 - a bad prefix is a setting to fix too, though listing does not use it
        with self._errors("listing secrets"):
            next(iter(self._client.list_properties_of_secrets(max_page_size=1)), None)

    def describe(self) -> str:
        return f"{self.label} {self.settings.get('vault_url', '')} (secrets named {self.settings['prefix']}-…)"

    # --- internals -----------------------------------------------------------------------------------------

    @cached_property
    def _client(self) -> SecretClient:
        url = urlparse(self._vault_url)
        if url.scheme != "https" or not url.hostname:
            raise StorageError(
                f"vault_url {self._vault_url!r} is not an https URL: use https://<vault name>.vault.azure.net",
                transient=False,
            )
        with self._errors("signing in"):
            return SecretClient(self._vault_url, self._credential(), **_CLIENT_OPTIONS)

    def _credential(self) -> Any:
        authority = str(self.settings["authority_host"])
        given = {key: self.credentials[key] for key in self.credential_fields if self.credentials.get(key)}
        if not given:
            # The platform's own identity, with the platform's own authority (AZURE_AUTHORITY_HOST): a tenant's
            # authority_host must never receive the platform's credentials.
            return _PlatformIdentity()
        if len(given) != len(self.credential_fields):
            raise StorageError(
                "give tenant_id, client_id and client_secret together, or none of them to use the managed identity",
                transient=False,
            )
        return ClientSecretCredential(
            given["tenant_id"],
            given["client_id"],
            given["client_secret"],
            authority=authority,
            # Instance discovery asks login.microsoftonline.com about the host; only Microsoft's own clouds know it.
            disable_instance_discovery=urlparse(authority).hostname not in _MICROSOFT_HOSTS,
            **_CLIENT_OPTIONS,
        )

    @property
    def _vault_url(self) -> str:
        return str(self.settings.get("vault_url") or "")

    @property
    def _prefix(self) -> str:
        prefix = str(self.settings["prefix"])
        if not PREFIX_RE.fullmatch(prefix):
            # Dashes would let two prefixes' names meet; upper case would be folded by Key Vault.
            raise StorageError(
                f"prefix {prefix!r} is invalid: use a lowercase letter, then lowercase letters or digits",
                transient=False,
            )
        return prefix

    def _name(self, kind: str, identifier: str) -> str:
        return secret_name(self._prefix, self.tenant, kind, identifier)

    def _get(self, name: str, version: str | None = None) -> KeyVaultSecret | None:
        try:
            return self._client.get_secret(name, version)
        except ResourceNotFoundError:
            return None

    def _get_version(self, name: str, version: int) -> KeyVaultSecret | None:
        try:
            matches = [
                properties
                for properties in self._client.list_properties_of_secret_versions(name)
                if (properties.tags or {}).get(TAG_VERSION) == str(version)
            ]
        except ResourceNotFoundError:
            return None
        if not matches:
            return None
        # The same number stored twice (re-issued material, a recovered secret): the last one stored wins.
        latest = max(matches, key=lambda properties: properties.created_on.timestamp() if properties.created_on else 0)
        return self._get(name, latest.version)

    def _free_deleted_name(self, name: str) -> None:
        try:
            self._client.purge_deleted_secret(name)
        except ResourceNotFoundError:
            pass  # purged meanwhile
        except HttpResponseError as exc:
            if exc.status_code != 403:
                raise
            # Purge protection keeps the old secret for its retention period: take it back, then add a version.
            self._client.begin_recover_deleted_secret(name).wait()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except StorageError:
            raise
        except ClientAuthenticationError as exc:
            raise self._error(action, exc, "check tenant_id, client_id and client_secret", transient=False) from exc
        except HttpResponseError as exc:
            status = exc.status_code or 0
            if status in _TRANSIENT_STATUSES or status >= 500:
                raise self._error(action, exc, "Key Vault is busy or failing; will try again", transient=True) from exc
            hint = "give the identity get, list, set, delete, purge and recover on secrets" if status == 403 else ""
            raise self._error(action, exc, hint, transient=False) from exc
        except AzureError as exc:  # connection refused, DNS, TLS, timeouts
            raise self._error(action, exc, "the vault could not be reached; will try again", transient=True) from exc
        except ValueError as exc:  # the SDK refusing a setting (a malformed tenant id, a challenge for another host)
            raise self._error(action, exc, "check the vault URL and credentials", transient=False) from exc

    def _error(self, action: str, exc: Exception, hint: str, *, transient: bool) -> StorageError:
        if isinstance(exc, HttpResponseError) and not isinstance(exc, ClientAuthenticationError):
            # Key Vault's own error (code and message) when it sent one; otherwise the status alone, never the body.
            error = getattr(exc, "error", None)
            said = f"{error.code}: {error.message}" if error is not None and error.code else ""
            detail = f"HTTP {exc.status_code or 'error'}" + (f" {said}" if said else "")
        else:
            detail = (getattr(exc, "message", None) or str(exc) or type(exc).__name__).strip().splitlines()[0]
        detail = remote_summary(detail, [self.credentials.get("client_secret")])
        reason = f"Azure Key Vault {self._vault_url}: {action} failed: {detail}"
        return StorageError(f"{reason} ({hint})" if hint else reason, transient=transient)
