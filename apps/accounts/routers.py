"""Which tables go into which schema, on top of django-tenants' SHARED_APPS / TENANT_APPS split."""

from django.db import connections
from django_tenants.utils import get_public_schema_name

# accounts is both a shared and a tenant app (users live everywhere), but these live only in public…
PUBLIC_ONLY_MODELS = frozenset({("accounts", "tenant"), ("accounts", "domain"), ("accounts", "httpchallenge")})
# …and these only in tenant schemas. CA accounts, DNS accounts and tenant settings live in the tenant-only
# app certificates now; their accounts entries stay for the migrations that created them in accounts.
TENANT_ONLY_MODELS = frozenset(
    {
        ("accounts", "caaccount"),
        ("accounts", "dnsaccount"),
        ("accounts", "tenantsettings"),
        ("accounts", "apitoken"),
        ("accounts", "ssosettings"),
        ("accounts", "certmatetokenkey"),
    }
)


class ModelPlacementRouter:
    """Keeps public-only models out of tenant schemas and tenant-only models out of public; says nothing
    about the rest, so the next router (django-tenants' TenantSyncRouter) decides."""

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        in_public = connections[db].schema_name == get_public_schema_name()
        model = (app_label, model_name)
        if (in_public and model in TENANT_ONLY_MODELS) or (not in_public and model in PUBLIC_ONLY_MODELS):
            return False
        return None
