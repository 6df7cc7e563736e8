from django.apps import AppConfig


class StorageConfig(AppConfig):
    """Where certificate material is published (tenant schema). Backends arrive with issue #5."""

    name = "apps.storage"
    label = "storage"
    verbose_name = "Storage"
