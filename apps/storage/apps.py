from django.apps import AppConfig


class StorageConfig(AppConfig):
    """Where certificate material is published (tenant schema)."""

    name = "apps.storage"
    label = "storage"
    verbose_name = "Storage"

    def ready(self) -> None:
        # Subscribes to certificate events here, once the models are loaded: apps.certificates never
        # imports storage.
        from apps.storage.consumers import register

        register()
