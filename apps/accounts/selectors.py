"""Reads for accounts."""

from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from apps.accounts.models import Tenant


def tenant_list() -> QuerySet[Tenant]:
    """Every tenant but the platform's own public schema, with its domains."""
    return (
        Tenant.objects.exclude(schema_name=get_public_schema_name()).prefetch_related("domains").order_by("schema_name")
    )
