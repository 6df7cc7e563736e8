"""Portal fixtures: browsers (Django's test client) on a tenant's host, signed in as a user of a role,
or anonymous."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant, User
from apps.accounts.services.users import user_create
from certmate.actors import Actor
from tests.conftest import PASSWORD

ROLES = ("viewer", "operator", "admin")
_serial = itertools.count(1)


def host_of(tenant: Tenant) -> str:
    return tenant.get_primary_domain().domain


def browser(tenant: Tenant) -> Client:
    """A browser on the tenant's host, signed in as nobody."""
    return Client(HTTP_HOST=host_of(tenant))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Password-reset limits live in the cache: each test starts with full budgets."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def portal_user(db):
    """``portal_user(tenant, role)``: a new active user of that role (password: PASSWORD)."""

    def make(tenant: Tenant, role: str = "admin") -> User:
        with tenant_context(tenant):
            email = f"{role}-{next(_serial)}@{host_of(tenant)}"
            return user_create(email=email, password=PASSWORD, role=role, actor=Actor.command())

    return make


@pytest.fixture
def signed_in(portal_user):
    """``signed_in(tenant, role)``: a browser on the tenant's host with a session of a new user of that
    role (``client.user``); ``signed_in(tenant, None)``: anonymous."""

    def make(tenant: Tenant, role: str | None = "admin") -> Client:
        client = browser(tenant)
        client.user = None
        if role is not None:
            client.user = portal_user(tenant, role)
            with tenant_context(tenant):  # the session is stored in the tenant's schema
                client.force_login(client.user, backend="apps.accounts.sso.backends.PasswordBackend")
        return client

    return make
