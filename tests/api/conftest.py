"""API fixtures: users of a role, clients holding a real bearer token of a tenant, anonymous clients."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import Tenant, User
from apps.accounts.services.tokens import token_create
from apps.accounts.services.users import user_create
from certmate.actors import Actor
from tests.conftest import PASSWORD

_serial = itertools.count(1)


def host_of(tenant: Tenant) -> str:
    return tenant.get_primary_domain().domain


def tenant_client(tenant: Tenant) -> APIClient:
    client = APIClient()
    client.defaults["HTTP_HOST"] = host_of(tenant)
    return client


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the cache; each test starts with full budgets."""
    cache.clear()
    yield
    cache.clear()


def bearer_client(tenant: Tenant, role: str = "admin") -> APIClient:
    """A client of a new user of ``role`` with a real token, without a test transaction (rows are
    committed when the caller's are: usable with live_db and worker processes)."""
    with tenant_context(tenant):
        user = user_create(
            email=f"{role}-{next(_serial)}@{host_of(tenant)}", password=PASSWORD, role=role, actor=Actor.command()
        )
        _, raw = token_create(user=user, role=role, name="tests", actor=Actor.command())
    client = tenant_client(tenant)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api_user(db):
    """``api_user(tenant, role)``: a new active user of that role in the tenant's schema."""

    def make(tenant: Tenant, role: str = "admin") -> User:
        with tenant_context(tenant):
            return user_create(
                email=f"{role}-{next(_serial)}@{host_of(tenant)}", password=PASSWORD, role=role, actor=Actor.command()
            )

    return make


@pytest.fixture
def api_client(api_user):
    """``api_client(tenant, role="admin")``: an APIClient on the tenant's host with a real token of a
    new user of that role. ``client.user``, ``client.token`` (the ApiToken) and ``client.raw_token``."""

    def make(tenant: Tenant, role: str = "admin") -> APIClient:
        user = api_user(tenant, role)
        with tenant_context(tenant):
            token, raw = token_create(user=user, role=role, name="tests", actor=Actor.command())
        client = tenant_client(tenant)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.user, client.token, client.raw_token = user, token, raw
        return client

    return make


@pytest.fixture
def anon_client(db):
    """``anon_client(tenant)``: an APIClient on the tenant's host without credentials."""
    return tenant_client
