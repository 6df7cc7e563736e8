"""Creating and deleting tenants: schema, domain and first admin together, or nothing."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django_tenants.utils import get_public_schema_name, schema_exists, tenant_context
from psycopg.errors import DeadlockDetected

from apps.accounts.models import Domain, Role, Tenant, User
from apps.accounts.services.template import template_schema_ensure_current
from apps.accounts.services.users import user_create, user_email_clean
from apps.accounts.validators import validate_hostname, validate_tenant_slug
from certmate.actors import Actor


def tenant_create(
    *,
    slug: str,
    domain: str,
    name: str = "",
    admin_email: str | None = None,
    admin_password: str | None = None,
    actor: Actor,
) -> Tenant:
    """Create a tenant's schema (cloned from the template), its primary domain and optionally its
    first admin. Every check runs before anything is written; a failure part-way rolls back all.
    The tenant and its domain live in the public schema, which has no audit log; the first admin is
    the first event of the tenant's own log (``user.created`` by ``actor``)."""
    slug = (slug or "").strip()
    domain = (domain or "").strip().lower()
    validate_tenant_slug(slug)
    validate_hostname(domain)
    if bool(admin_email) != bool(admin_password):
        raise ValidationError("give the first admin's e-mail and password together", code="admin_incomplete")
    if admin_password:
        validate_password(admin_password, user=User(email=user_email_clean(admin_email)))
    _check_free(slug=slug, domain=domain)
    Tenant(schema_name=slug, name=(name or slug).strip()).full_clean(validate_unique=False)

    connection.set_schema_to_public()
    if settings.TENANT_CREATION_FAKES_MIGRATIONS and settings.TENANT_BASE_SCHEMA:
        # Outside the tenant's transaction: a failure below must not undo the template's migration.
        template_schema_ensure_current()
    try:
        with transaction.atomic():
            tenant = Tenant(schema_name=slug, name=(name or slug).strip())
            tenant.save()
            Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
            if admin_email:
                with tenant_context(tenant):
                    user_create(email=admin_email, password=admin_password, role=Role.ADMIN, actor=actor)
    except IntegrityError:
        # Lost a race with a concurrent create of the same slug or domain.
        _check_free(slug=slug, domain=domain)
        raise
    finally:
        connection.set_schema_to_public()
    return tenant


DROP_ATTEMPTS = 3


def tenant_delete(*, slug: str) -> None:
    """Delete a tenant, its domains and its schema with everything in it."""
    if slug == get_public_schema_name():
        raise ValidationError("the public schema holds the platform itself and cannot be deleted", code="reserved_slug")
    connection.set_schema_to_public()
    tenant = Tenant.objects.filter(schema_name=slug).first()
    if tenant is None:
        raise ValidationError(f"no tenant with slug {slug!r}", code="not_found")
    for attempt in range(1, DROP_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                tenant.delete(force_drop=True)
            return
        except OperationalError as exc:
            # A worker still busy with the tenant (an event it delivers, a job it finishes) holds row locks
            # DROP SCHEMA waits for while it waits for the schema's tables: PostgreSQL ends one of the two.
            if not isinstance(exc.__cause__, DeadlockDetected) or attempt == DROP_ATTEMPTS:
                raise
            time.sleep(0.5 * attempt)


def tenant_ensure_public(*, domains: list[str]) -> Tenant:
    """The public tenant (platform operators' host) and its domains; safe to repeat."""
    connection.set_schema_to_public()
    public_name = get_public_schema_name()
    with transaction.atomic():
        tenant, _ = Tenant.objects.get_or_create(schema_name=public_name, defaults={"name": "Platform"})
        for position, host in enumerate(domains):
            validate_hostname(host)
            owner = Domain.objects.filter(domain=host).select_related("tenant").first()
            if owner is None:
                Domain.objects.create(domain=host, tenant=tenant, is_primary=position == 0)
            elif owner.tenant_id != tenant.pk:
                raise ValidationError(
                    f"domain {host} already serves tenant {owner.tenant.schema_name}", code="domain_taken"
                )
    return tenant


def _check_free(*, slug: str, domain: str) -> None:
    if Tenant.objects.filter(schema_name__iexact=slug).exists():
        raise ValidationError(f"tenant slug {slug!r} is already taken", code="slug_taken")
    if schema_exists(slug, case_sensitive=False):
        raise ValidationError(
            f"a schema named {slug!r} already exists in the database without a tenant: drop it or choose another slug",
            code="schema_exists",
        )
    owner = Domain.objects.filter(domain=domain).select_related("tenant").first()
    if owner is not None:
        raise ValidationError(f"domain {domain} already serves tenant {owner.tenant.schema_name}", code="domain_taken")
