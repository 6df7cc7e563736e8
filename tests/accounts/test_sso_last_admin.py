"""Single sign-on brings roles in step with the provider's claims, but never demotes the tenant's last
active admin (a changed claim mapping must not lock every admin out)."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.accounts.services.users import user_create, user_sign_in_provision
from certmate.actors import Actor
from tests.conftest import TENANT_A

pytestmark = pytest.mark.django_db
SSO = Actor.system("single sign-on (test)")


def test_the_last_admin_keeps_the_role_until_another_admin_exists(tenant_a):
    with tenant_context(tenant_a):
        email = TENANT_A["admin_email"]
        assert list(User.objects.filter(role=Role.ADMIN, is_active=True).values_list("email", flat=True)) == [email]
        kept = user_sign_in_provision(email=email, role=Role.VIEWER, actor=SSO)
        assert User.objects.get(pk=kept.pk).role == Role.ADMIN
        user_create(email="second@alpha.test", role=Role.ADMIN, actor=Actor.command())
        demoted = user_sign_in_provision(email=email, role=Role.VIEWER, actor=SSO)
        assert User.objects.get(pk=demoted.pk).role == Role.VIEWER
