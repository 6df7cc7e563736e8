"""What `make run` needs on a fresh database: the public tenant, a platform operator, a demo tenant."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, Tenant, User
from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
from apps.accounts.services.users import user_create
from certmate.actors import Actor


@dataclass(frozen=True)
class NewLogin:
    """A login created just now. Its password is shown once and never stored in clear."""

    where: str
    url: str
    email: str
    password: str


def _password() -> str:
    return secrets.token_urlsafe(15)


def platform_bootstrap(
    *,
    public_domains: list[str],
    operator_email: str,
    demo_slug: str | None,
    demo_domain: str,
    demo_admin_email: str,
    port: int,
    actor: Actor,
) -> list[NewLogin]:
    """Ensure the public tenant, a platform operator and (optionally) the demo tenant with its admin.
    Safe to repeat: returns only the logins it created."""
    created: list[NewLogin] = []
    tenant_ensure_public(domains=public_domains)
    connection.set_schema_to_public()
    if not User.objects.filter(is_superuser=True).exists():
        password = _password()
        user_create(email=operator_email, password=password, role=Role.ADMIN, actor=actor)
        created.append(NewLogin("platform", f"http://{public_domains[0]}:{port}/admin/", operator_email, password))
    if demo_slug:
        tenant = Tenant.objects.filter(schema_name=demo_slug).first()
        if tenant is None:
            password = _password()
            tenant_create(
                slug=demo_slug,
                domain=demo_domain,
                name="Demo",
                admin_email=demo_admin_email,
                admin_password=password,
                actor=actor,
            )
            created.append(
                NewLogin(f"tenant {demo_slug}", f"http://{demo_domain}:{port}/login/", demo_admin_email, password)
            )
        else:
            with tenant_context(tenant):
                has_admin = User.objects.filter(role=Role.ADMIN, is_active=True).exists()
                if not has_admin:
                    password = _password()
                    user_create(email=demo_admin_email, password=password, role=Role.ADMIN, actor=actor)
                    created.append(
                        NewLogin(
                            f"tenant {demo_slug}", f"http://{demo_domain}:{port}/login/", demo_admin_email, password
                        )
                    )
    return created
