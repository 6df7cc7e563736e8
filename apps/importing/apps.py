from django.apps import AppConfig


class ImportingConfig(AppConfig):
    """Bringing a tenant's data in from CertMate (tenant schema): what was imported, by source key."""

    name = "apps.importing"
    label = "importing"
    verbose_name = "Import from CertMate"
