from django.apps import AppConfig


class BackupsConfig(AppConfig):
    """Backups of tenants (no models: archives are files, kept per tenant under CERTMATE_BACKUP_DIR)."""

    name = "apps.backups"
    label = "backups"
    verbose_name = "Backups"

    def ready(self) -> None:
        # `manage.py tenant export|import`: accounts owns the command and never imports backups.
        from apps.backups.commands import register

        register()
