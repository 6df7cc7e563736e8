from apps.storage.services.config import (
    storage_backend,
    storage_config_active,
    storage_config_check,
    storage_config_test,
    storage_config_validate,
    storage_credentials_kept,
    storage_target_name,
)
from apps.storage.services.migrate import MigrationReport, storage_migrate
from apps.storage.services.publishing import (
    ResyncReport,
    publication_publish,
    publication_republish,
    publication_request,
    publication_withdraw,
    publications_resync,
    publications_retry_due,
)
from apps.storage.services.switch import storage_config_set

__all__ = [
    "MigrationReport",
    "ResyncReport",
    "publication_publish",
    "publication_republish",
    "publication_request",
    "publication_withdraw",
    "publications_resync",
    "publications_retry_due",
    "storage_backend",
    "storage_config_active",
    "storage_config_check",
    "storage_config_set",
    "storage_config_test",
    "storage_config_validate",
    "storage_credentials_kept",
    "storage_migrate",
    "storage_target_name",
]
