import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from certmate.tenancy import tenant_path


def test_paths_are_per_tenant(tmp_path, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        a = tenant_path(tmp_path, "server", "example.com")
    with tenant_context(tenant_b):
        b = tenant_path(tmp_path, "server", "example.com")
    assert a == tmp_path.resolve() / "alpha" / "server" / "example.com"
    assert b == tmp_path.resolve() / "beta" / "server" / "example.com"


@pytest.mark.parametrize("parts", [("..", "beta"), ("/etc/passwd",), ("server", "..", "..", "x")])
def test_paths_cannot_leave_the_tenant_folder(tmp_path, tenant_a, parts):
    with tenant_context(tenant_a), pytest.raises(ValidationError, match="leaves tenant alpha's folder"):
        tenant_path(tmp_path, *parts)


def test_no_tenant_no_path(tmp_path, db):
    with pytest.raises(ValidationError, match="tenant files need a tenant"):
        tenant_path(tmp_path, "server")
