"""The backends by name (CertMate's names). Imported lazily, so one SDK's trouble stays its own."""

from __future__ import annotations

import importlib

from apps.storage.backends.base import StorageBackend, StorageError

LOCAL = "local_filesystem"
BACKENDS = {
    LOCAL: ("apps.storage.backends.local", "LocalFilesystemBackend", "Local filesystem"),
    "aws_secrets_manager": ("apps.storage.backends.aws", "AwsSecretsManagerBackend", "AWS Secrets Manager"),
    "hashicorp_vault": ("apps.storage.backends.vault", "VaultBackend", "HashiCorp Vault"),
    "azure_keyvault": ("apps.storage.backends.azure", "AzureKeyVaultBackend", "Azure Key Vault"),
    "infisical": ("apps.storage.backends.infisical", "InfisicalBackend", "Infisical"),
}
BACKEND_CHOICES = [(name, label) for name, (_module, _cls, label) in BACKENDS.items()]


def backend_class(name: str) -> type[StorageBackend]:
    try:
        module, cls, _label = BACKENDS[name]
    except KeyError:
        raise StorageError(
            f"storage backend {name!r} is unknown: use one of {', '.join(BACKENDS)}", transient=False
        ) from None
    return getattr(importlib.import_module(module), cls)
