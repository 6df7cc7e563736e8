"""Which tables go into which schema, on top of django-tenants' SHARED_APPS / TENANT_APPS split."""

from django.db import connections
from django_tenants.utils import get_public_schema_name

# accounts is both a shared and a tenant app (users live everywhere), but these live only in public.
PUBLIC_ONLY_MODELS = frozenset({("accounts", "tenant"), ("accounts", "domain")})


class PublicOnlyModelsRouter:
    """Keeps public-only models out of tenant schemas; says nothing about the rest, so the next
    router (django-tenants' TenantSyncRouter) decides."""

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if (app_label, model_name) in PUBLIC_ONLY_MODELS and connections[db].schema_name != get_public_schema_name():
            return False
        return None
