"""Fixtures the faces tests share with the apps' own tests."""

import pytest
from django.test import Client

from tests.conftest import PASSWORD, TENANT_A
from tests.storage.conftest import bao  # noqa: F401 - the session's OpenBao (the Vault API), a fixture

HOST = {"host": TENANT_A["domain"]}


@pytest.fixture
def admin(client: Client, tenant_a) -> Client:
    """The tenant's admin, signed in: the same session drives the API (/api/) and the admin (/admin/)."""
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302
    client.tenant = tenant_a
    return client
