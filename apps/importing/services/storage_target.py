"""CertMate's ``certificate_storage`` as the tenant's storage target (through storage's service, which
validates it, encrypts its credentials and queues the imported versions for it)."""

from __future__ import annotations

from typing import Any

from apps.importing.certmate_settings import has_masked
from apps.importing.context import ImportRun, content_hash
from apps.importing.report import Outcome
from apps.storage.models import StorageConfig
from apps.storage.services.config import storage_config_active
from apps.storage.services.switch import storage_config_set

ITEM = "settings.json: certificate_storage"
# CertMate's field -> certmate's (setting or credential), per backend.
_SETTINGS = {
    "aws_secrets_manager": {"region": "region"},
    "hashicorp_vault": {"vault_url": "url", "mount_point": "mount"},
    "azure_keyvault": {"vault_url": "vault_url"},
    "infisical": {"site_url": "site_url", "project_id": "project_id", "environment": "environment"},
}
_CREDENTIALS = {
    "aws_secrets_manager": {"access_key_id": "access_key_id", "secret_access_key": "secret_access_key"},
    "hashicorp_vault": {"vault_token": "token"},
    "azure_keyvault": {"tenant_id": "tenant_id", "client_id": "client_id", "client_secret": "client_secret"},
    "infisical": {"client_id": "client_id", "client_secret": "client_secret"},
}


def _mapped(config: dict[str, Any], fields: dict[str, str]) -> dict[str, str]:
    return {
        ours: str(config[theirs]).strip() for theirs, ours in fields.items() if str(config.get(theirs) or "").strip()
    }


def storage_import(run: ImportRun) -> None:
    storage = run.settings.get("certificate_storage")
    if not isinstance(storage, dict):
        return
    backend = str(storage.get("backend") or "local_filesystem")
    run.each(f"{ITEM} (backend {backend[:40]})", lambda: _target(run, backend, storage))


def _target(run: ImportRun, backend: str, storage: dict[str, Any]) -> tuple[Outcome, str]:
    if backend == "local_filesystem":
        return Outcome.SKIPPED, "local files: certmate publishes each tenant's certificates under its own folder"
    if backend not in _SETTINGS:
        return Outcome.ATTENTION, f"storage backend {backend[:40]!r} is not one certmate has: choose one in the admin"
    config = storage.get(backend) if isinstance(storage.get(backend), dict) else {}
    if has_masked(config):
        return Outcome.ATTENTION, "its credentials are masked in this backup: set the storage target in the admin"
    settings = _mapped(config, _SETTINGS[backend])
    if backend == "hashicorp_vault" and config.get("engine_version") in ("v1", "v2"):
        settings["kv_version"] = config["engine_version"][1]
    credentials = _mapped(config, _CREDENTIALS[backend])
    key = f"storage:{backend}"
    digest = content_hash([settings, credentials])
    if run.same_as_before(key, digest) and run.target_of(key, StorageConfig) is not None:
        return Outcome.UNCHANGED, f"the tenant's {backend} storage target (imported before)"
    active = storage_config_active()
    if active.backend != "local_filesystem" and run.known.get(key) is None:
        return Outcome.ATTENTION, f"the tenant already publishes to {active.backend}: kept (switch in the admin)"
    # Not tested from here: the import must not hang on a remote store; its first publication tests it.
    config_row = storage_config_set(
        actor=run.actor, backend=backend, settings=settings, credentials=credentials, test=False
    )
    run.remember(key, "storage", digest, config_row)
    return Outcome.IMPORTED, f"the tenant's storage target ({backend}, credentials encrypted): check it in the admin"
