"""Three roles per tenant; each includes the ones below it."""

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.accounts.services.users import user_create
from certmate.actors import Actor
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    ("role", "admin", "operator", "viewer"),
    [("admin", True, True, True), ("operator", False, True, True), ("viewer", False, False, True)],
)
def test_roles_are_ordered(tenant_a, role, admin, operator, viewer):
    with tenant_context(tenant_a):
        user = user_create(email=f"new-{role}@alpha.test", password=PASSWORD, role=role, actor=Actor.command())
        assert (user.has_role(Role.ADMIN), user.has_role(Role.OPERATOR), user.has_role(Role.VIEWER)) == (
            admin,
            operator,
            viewer,
        )
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.is_superuser is admin
        user.is_active = False
        assert not user.has_role(Role.VIEWER), "a deactivated user has no role at all"


def test_role_groups_carry_permissions_of_their_level(tenant_a):
    from django.contrib.auth.models import Group

    with tenant_context(tenant_a):
        perms = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    assert perms["viewer"] <= perms["operator"] <= perms["admin"]
    assert "change_user" in perms["admin"] and "change_user" not in perms["operator"]
    assert not any(codename.endswith("_tenant") for codename in perms["admin"])
    # The accounts and defaults issuing uses are the admins' to see and change, as in the API.
    for model in ("caaccount", "dnsaccount", "tenantsettings"):
        assert {f"view_{model}", f"change_{model}"} <= perms["admin"]
        assert not any(codename.endswith(f"_{model}") for codename in perms["operator"])


def test_bad_user_input_is_refused_with_its_reason(tenant_a):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError, match="not a valid e-mail address"):
            user_create(email="not-an-email", password=PASSWORD, actor=Actor.command())
        with pytest.raises(ValidationError, match="role 'root' is unknown"):
            user_create(email="x@alpha.test", password=PASSWORD, role="root", actor=Actor.command())
        user_create(email="dup@alpha.test", password=PASSWORD, actor=Actor.command())
        with pytest.raises(ValidationError, match="already exists"):
            user_create(email="DUP@alpha.test", password=PASSWORD, actor=Actor.command())
