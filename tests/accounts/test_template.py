"""New tenants are cloned from a template schema that certmate keeps migrated."""

from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_exists

from apps.accounts.services import template
from apps.accounts.services.tenants import tenant_create
from certmate.actors import Actor


def test_a_missing_template_is_rebuilt_before_the_next_clone(db, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{settings.TENANT_BASE_SCHEMA}" CASCADE')
    monkeypatch.setattr(template, "_scripts", {})
    tenant_create(slug="lambda_1", domain="lambda.test", actor=Actor.command())
    assert schema_exists(settings.TENANT_BASE_SCHEMA)
    assert template.template_schema_pending_migrations(settings.TENANT_BASE_SCHEMA) == []
    assert template.template_schema_pending_migrations("lambda_1") == []


def test_a_current_template_is_left_alone(db, monkeypatch):
    monkeypatch.setattr(template, "_scripts", {})
    assert template.template_schema_ensure_current() is False


def test_template_is_not_a_tenant_and_serves_no_host(db, client):
    from apps.accounts.models import Domain, Tenant

    assert not Tenant.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).exists()
    assert not Domain.objects.filter(tenant__schema_name=settings.TENANT_BASE_SCHEMA).exists()
