"""Per-tenant backup and restore: encrypted archives of a tenant's schema, `manage.py tenant export|import`,
and CertMate's /api/backups on the tenant's host."""
