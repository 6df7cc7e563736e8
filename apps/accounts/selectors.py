"""Reads for accounts."""

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from apps.accounts.models import Tenant


def tenant_list() -> QuerySet[Tenant]:
    """Every tenant but the platform's own public schema, with its domains."""
    return (
        Tenant.objects.exclude(schema_name=get_public_schema_name()).prefetch_related("domains").order_by("schema_name")
    )


def signin_attempts() -> QuerySet:
    """Failed sign-ins still counted (within the cool-off) in the current schema, newest first."""
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - get_cool_off()).order_by("-attempt_time")
