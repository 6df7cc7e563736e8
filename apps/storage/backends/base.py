"""The one interface every storage backend implements. Backends know nothing of Django models: they
receive and return plain bundles, so each can be tested against its server alone."""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings as django_settings

from certmate.egress import EgressRefused, check_url, deadline, guarded, refusal_in

# The files of a bundle, by the names consumers know them under (CertMate's and certbot's), and ca.pem:
# the issuing CA's certificate and the issuers above it, for a private CA's certificate (what an mTLS
# server trusts). privkey.pem is absent when the key stayed with the requester (signed from a CSR).
KEY_FILE = "privkey.pem"
CA_FILE = "ca.pem"
METADATA_FILE = "metadata.json"
PEM_FILES = ("cert.pem", "chain.pem", "fullchain.pem", KEY_FILE, CA_FILE)
ALL_FILES = (*PEM_FILES, METADATA_FILE)
# metadata.json's list of the PEM files published beside it; a bundle stored before it had the four.
FILES_FIELD = "files"
_LEGACY_FILES = ("cert.pem", "chain.pem", "fullchain.pem", KEY_FILE)
KINDS = ("server", "client")


class StorageError(Exception):
    """A backend could not do what was asked. ``reason`` is one line naming what failed and what to do;
    ``transient`` says whether trying again later may help (a server down) or not (wrong credentials)."""

    def __init__(self, reason: str, *, transient: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class IdentifierRefused(StorageError):
    """An identifier a backend cannot store safely (it would leave its folder, or is too long)."""

    def __init__(self, reason: str):
        super().__init__(reason, transient=False)


class DestinationRefused(StorageError):
    """Where the settings point is refused by the platform's egress rule (see certmate/egress)."""

    def __init__(self, reason: str):
        super().__init__(reason, transient=False)


@dataclass(frozen=True)
class Bundle:
    """One version of one certificate, as published: its PEM files and metadata.json's content. An
    empty ``privkey_pem`` (a CSR-signed version) or ``ca_pem`` (an ACME one) publishes no such file;
    ``metadata["files"]`` names the PEM files published, so a reader tells a file lost from one never
    written."""

    kind: str
    identifier: str
    version: int
    cert_pem: str
    chain_pem: str
    fullchain_pem: str
    privkey_pem: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    ca_pem: str = ""

    def files(self) -> dict[str, str]:
        """File name -> text, metadata.json included (sorted keys, so equal bundles give equal bytes)."""
        texts = {
            "cert.pem": self.cert_pem,
            "chain.pem": self.chain_pem,
            "fullchain.pem": self.fullchain_pem,
            KEY_FILE: self.privkey_pem,
            CA_FILE: self.ca_pem,
        }
        return {
            **{name: text for name, text in texts.items() if text or name not in (KEY_FILE, CA_FILE)},
            METADATA_FILE: metadata_text(self.metadata),
        }

    @classmethod
    def from_files(cls, *, kind: str, identifier: str, files: Mapping[str, str]) -> Bundle:
        """The inverse of files(); the version number is read from the metadata."""
        if METADATA_FILE not in files:
            raise StorageError(f"{kind}/{identifier} is stored incomplete: {METADATA_FILE} missing", transient=False)
        try:
            metadata = json.loads(files[METADATA_FILE])
            version = int(metadata.get("version", 0))
            published = published_files(metadata)
        except (ValueError, TypeError, AttributeError):
            reason = f"{kind}/{identifier} is stored with an unreadable metadata.json"
            raise StorageError(reason, transient=False) from None
        missing = [name for name in published if name not in files]
        if missing:
            reason = f"{kind}/{identifier} is stored incomplete: {', '.join(missing)} missing"
            raise StorageError(reason, transient=False)
        return cls(
            kind=kind,
            identifier=identifier,
            version=version,
            cert_pem=files["cert.pem"],
            chain_pem=files["chain.pem"],
            fullchain_pem=files["fullchain.pem"],
            privkey_pem=files.get(KEY_FILE, ""),
            metadata=metadata,
            ca_pem=files.get(CA_FILE, ""),
        )


def published_files(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """The PEM files metadata.json says were published (cert, chain and fullchain always)."""
    listed = metadata.get(FILES_FIELD)
    if listed is None:
        return _LEGACY_FILES
    if not isinstance(listed, list):
        raise TypeError("files is not a list")
    return tuple(name for name in PEM_FILES if name in listed or name not in (KEY_FILE, CA_FILE))


def metadata_text(metadata: Mapping[str, Any]) -> str:
    return json.dumps(dict(metadata), indent=2, sort_keys=True, default=str) + "\n"


@dataclass(frozen=True)
class StoredItem:
    """What list() reports: a certificate stored in the backend and the version it currently holds."""

    kind: str
    identifier: str
    version: int


class StorageBackend(ABC):
    """Where a tenant's certificate material is published.

    A backend is built per tenant with that tenant's slug, its settings (plain, validated by
    ``setting_fields``) and its credentials (decrypted, validated by ``credential_fields``). Every
    method raises StorageError (or a subclass) for anything that goes wrong, never a library's own
    exception, and never puts a credential in a message.
    """

    name: ClassVar[str]  # the configuration's key, CertMate's name for the backend
    label: ClassVar[str]
    # Field name -> help text. Required fields have no default in ``defaults``.
    setting_fields: ClassVar[Mapping[str, str]] = {}
    credential_fields: ClassVar[Mapping[str, str]] = {}
    defaults: ClassVar[Mapping[str, Any]] = {}
    keeps_versions: ClassVar[bool] = True
    # Without credentials, the backend's SDK falls back to the machine's own identity (AWS's default
    # chain, Azure's managed identity): allowed for tenants only where the platform says so.
    platform_credentials_fallback: ClassVar[bool] = False
    # The settings that say where material lands (not how to get there): two configurations equal in
    # these are the same place, whatever their timeouts or credentials.
    location_fields: ClassVar[tuple[str, ...]] = ()
    # Settings naming where the backend connects (URL setting -> schemes allowed): checked against the
    # platform's egress rule when the settings are validated and again before every call.
    egress_url_fields: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    # The settings that say where the credentials are sent, or who can read them on the way there (an
    # address, a region, TLS verification): changing one needs the credentials given again, so stored
    # secrets never follow a new address.
    destination_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def settings_problems(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        """What is wrong with these settings' values (types and bounds), by field; empty when nothing.
        Run before anything connects: a refused value never reaches a library."""
        return {}

    @classmethod
    def destination(cls, settings: Mapping[str, Any]) -> tuple[str, ...]:
        """Where the credentials go with these settings (see destination_fields), as compared."""
        merged = {**cls.defaults, **settings}
        return tuple(str(merged.get(name, "")).strip().rstrip("/") for name in cls.destination_fields)

    def __init__(self, *, tenant: str, settings: Mapping[str, Any], credentials: Mapping[str, Any]):
        self.tenant = tenant
        self.settings = {**self.defaults, **settings}
        self.credentials = dict(credentials)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every call a backend makes on the tenant's behalf, in the web process or a worker, runs under the
        # platform's egress rule: the interface's methods are wrapped once here, so no backend can forget.
        super().__init_subclass__(**kwargs)
        for name in _INTERFACE:
            method = cls.__dict__.get(name)
            if method is not None:
                setattr(cls, name, _under_egress_rule(method))

    @classmethod
    def refused_destinations(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        """Setting name -> why the egress rule refuses where it points (no DNS: literal addresses only)."""
        refused = {}
        for name, schemes in cls.egress_url_fields.items():
            value = settings.get(name, cls.defaults.get(name))
            if value in (None, ""):
                continue  # missing: reported where required, and an optional endpoint means the default one
            try:
                check_url(str(value) if isinstance(value, str) else "", schemes=schemes, query=False)
            except EgressRefused as exc:
                refused[name] = f"{cls.label} {name}: {exc}"
        return refused

    @abstractmethod
    def store(self, bundle: Bundle) -> None:
        """Make ``bundle`` the current material of its certificate, keeping the one it replaces as an
        earlier version (where the backend keeps versions). Storing the same version again is a no-op
        as far as a reader can tell."""

    @abstractmethod
    def read(self, kind: str, identifier: str, version: int | None = None) -> Bundle | None:
        """The current bundle (or an earlier ``version``, where kept), byte-identical to what was stored;
        None when there is none."""

    @abstractmethod
    def list(self) -> list[StoredItem]:
        """Every certificate this tenant has stored here."""

    @abstractmethod
    def delete(self, kind: str, identifier: str) -> None:
        """Remove the certificate and its earlier versions; deleting what is not there is not an error."""

    @abstractmethod
    def test_connection(self) -> None:
        """Reach the backend with these settings and credentials; raise StorageError saying what failed."""

    @classmethod
    def location(cls, settings: Mapping[str, Any]) -> tuple[str, ...]:
        """Where material lands with these settings, normalised (see location_fields)."""
        merged = {**cls.defaults, **settings}
        return tuple(str(merged.get(name) or "").strip().strip("/").lower() for name in cls.location_fields)

    def describe(self) -> str:
        """Where material goes, for people (never a credential)."""
        return self.label


_INTERFACE = ("store", "read", "list", "delete", "test_connection")


def _under_egress_rule(method: Callable) -> Callable:
    @functools.wraps(method)
    def call(self: StorageBackend, *args: Any, **kwargs: Any) -> Any:
        refused = self.refused_destinations(self.settings)  # saved before the rule, or the allowlist changed
        if refused:
            raise DestinationRefused(next(iter(refused.values())))
        try:
            with guarded(), deadline(django_settings.CERTMATE_STORAGE_CALL_SECONDS):
                return method(self, *args, **kwargs)
        except DestinationRefused:
            raise
        except Exception as exc:
            refusal = refusal_in(exc)
            if refusal is None:
                raise
            # Not worth retrying: only the tenant's settings or the platform's allowlist can change it.
            raise DestinationRefused(f"{self.label}: {refusal}") from None

    return call
