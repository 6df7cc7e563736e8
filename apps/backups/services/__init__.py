"""Writes for backups: export, import, the archives kept per tenant for CertMate's /api/backups."""

from apps.backups.services.export import ExportReport, tenant_export
from apps.backups.services.restore import RestoreReport, tenant_import

__all__ = ["ExportReport", "RestoreReport", "tenant_export", "tenant_import"]
