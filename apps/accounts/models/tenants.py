"""Tenants and the hosts that serve them. Public schema only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.postgresql_backend.base import _check_schema_name
from django_tenants.utils import schema_exists

from apps.accounts.services.cloning import schema_clone
from apps.accounts.services.template import template_schema_script
from apps.accounts.validators import validate_hostname, validate_tenant_slug


class Tenant(TenantMixin):
    """A customer or team. Its slug is its PostgreSQL schema name."""

    schema_name = models.CharField("slug", max_length=63, unique=True, validators=[validate_tenant_slug])
    name = models.CharField(max_length=200)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["schema_name"]

    def __str__(self) -> str:
        return self.schema_name

    @property
    def slug(self) -> str:
        return self.schema_name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Copy the template schema, which certmate keeps migrated, instead of replaying migrations.

        django-tenants would run its generic clone and then a faked ``migrate_schemas`` on the copy;
        certmate replays a script read from the current template instead (see services.cloning), and
        since the django_migrations rows come along, the faked pass has nothing to do.
        """
        if not (sync_schema and settings.TENANT_CREATION_FAKES_MIGRATIONS and self.get_base_schema()):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        _check_schema_name(self.schema_name)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        schema_clone(template_schema_script(), self.schema_name)
        return True


class Domain(DomainMixin):
    """A host name that serves one tenant (``acme.example.com``, ``acme.localhost``)."""

    domain = models.CharField(max_length=253, unique=True, db_index=True, validators=[validate_hostname])

    def __str__(self) -> str:
        return self.domain
