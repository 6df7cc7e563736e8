from django.apps import AppConfig


class StorageConfig(AppConfig):
    """Where certificate material is published (tenant schema). Backends arrive with issue #5."""

    name = "apps.storage"
    label = "storage"
    verbose_name = "Storage"

    def ready(self) -> None:
        # The services send these tasks by name: registered here in every process (web, worker, command),
        # so that sending one finds it (and a test's eager mode runs it).
        from apps.storage import tasks  # noqa: F401
