from contextlib import contextmanager

from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant


def tenant_named(slug: str) -> Tenant:
    """The tenant with this slug, or a one-line error naming the slug."""
    tenant = Tenant.objects.filter(schema_name=slug).exclude(schema_name="public").first()
    if tenant is None:
        raise CommandError(f"no tenant with slug {slug!r} (see `manage.py tenant list`)")
    return tenant


@contextmanager
def in_tenant(slug: str):
    """Run the block in the tenant's schema, or stop with a one-line error naming the slug."""
    tenant = tenant_named(slug)
    with tenant_context(tenant):
        yield tenant
