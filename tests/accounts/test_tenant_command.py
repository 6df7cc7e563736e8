"""`manage.py tenant create|list|delete`: what an operator types, and what they see when it is wrong."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from apps.accounts.models import Domain, Role, Tenant, User
from apps.accounts.services import tenants as tenant_services
from apps.accounts.services.template import template_schema_pending_migrations
from tests.conftest import PASSWORD


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("tenant", *args, stdout=out)
    return out.getvalue()


def assert_nothing_created(slug: str, domain: str | None = None) -> None:
    connection.set_schema_to_public()
    assert not Tenant.objects.filter(schema_name=slug).exists()
    assert not schema_exists(slug)
    if domain:
        assert not Domain.objects.filter(domain=domain).exists()


def test_create_makes_schema_domain_and_first_admin(db):
    out = run(
        "create",
        "gamma",
        "--domain",
        "gamma.test",
        "--name",
        "Gamma Corp",
        "--admin-email",
        "Ops@Gamma.test",
        "--admin-password",
        PASSWORD,
    )
    assert out.strip() == "created tenant gamma at gamma.test with admin Ops@Gamma.test"
    tenant = Tenant.objects.get(schema_name="gamma")
    assert tenant.name == "Gamma Corp" and tenant.is_active
    assert tenant.get_primary_domain().domain == "gamma.test"
    assert schema_exists("gamma")
    with tenant_context(tenant):
        admin = User.objects.get()
        assert admin.email == "ops@gamma.test"
        assert admin.role == Role.ADMIN and admin.is_staff and admin.is_superuser
        assert admin.check_password(PASSWORD)
        assert list(admin.groups.values_list("name", flat=True)) == ["admin"]


def test_created_tenant_is_a_full_clone_of_the_migrated_template(db):
    run("create", "delta", "--domain", "delta.test")
    assert template_schema_pending_migrations("delta") == []
    with tenant_context(Tenant.objects.get(schema_name="delta")):
        from django.contrib.auth.models import Group

        assert set(Group.objects.values_list("name", flat=True)) == {"admin", "operator", "viewer"}
        assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Upper", "tenant slug 'Upper' is invalid: use 1-63 lowercase letters, digits or underscores"),
        ("has-dash", "tenant slug 'has-dash' is invalid: use 1-63 lowercase letters, digits or underscores"),
        ("x" * 64, f"tenant slug '{'x' * 64}' is invalid: use 1-63 lowercase letters, digits or underscores"),
        ("public", "tenant slug 'public' is reserved"),
        ("information_schema", "tenant slug 'information_schema' is reserved"),
        ("tenant_template", "tenant slug 'tenant_template' is reserved"),
        ("pg_temp", "tenant slug 'pg_temp' is reserved: names starting with pg_ belong to PostgreSQL"),
    ],
)
def test_bad_and_reserved_slugs_are_refused_with_their_reason(db, slug, message):
    tenants_before = Tenant.objects.count()
    with pytest.raises(CommandError) as exc:
        run("create", slug, "--domain", "fresh.test")
    assert str(exc.value) == message
    assert "\n" not in str(exc.value)
    assert Tenant.objects.count() == tenants_before
    assert not Domain.objects.filter(domain="fresh.test").exists()


def test_taken_slug_and_taken_domain_are_refused(db, tenant_a):
    with pytest.raises(CommandError, match=r"^tenant slug 'alpha' is already taken$"):
        run("create", "alpha", "--domain", "other.test")
    with pytest.raises(CommandError, match=r"^domain alpha\.test already serves tenant alpha$"):
        run("create", "epsilon", "--domain", "alpha.test")
    assert_nothing_created("epsilon")


def test_bad_domain_and_weak_password_are_refused_before_anything_is_written(db):
    with pytest.raises(CommandError, match="is not a valid hostname"):
        run("create", "zeta", "--domain", "https://zeta.test:8443/")
    with pytest.raises(CommandError, match="too short"):
        run("create", "zeta", "--domain", "zeta.test", "--admin-email", "a@zeta.test", "--admin-password", "short")
    with pytest.raises(CommandError, match="'not-an-email' is not a valid e-mail address"):
        run("create", "zeta", "--domain", "zeta.test", "--admin-email", "not-an-email", "--admin-password", PASSWORD)
    # Without a terminal to ask in (tests/accounts/test_platform_admin.py: asked in one).
    with pytest.raises(CommandError, match="give --admin-password, or run the command in a terminal"):
        run("create", "zeta", "--domain", "zeta.test", "--admin-email", "a@zeta.test")
    assert_nothing_created("zeta", "zeta.test")


def test_failure_after_the_schema_exists_leaves_nothing_behind(db, monkeypatch):
    def broken_user_create(**kwargs):
        raise RuntimeError("disk full while creating the first admin")

    monkeypatch.setattr(tenant_services, "user_create", broken_user_create)
    with pytest.raises(RuntimeError, match="disk full"):
        run("create", "eta", "--domain", "eta.test", "--admin-email", "a@eta.test", "--admin-password", PASSWORD)
    assert_nothing_created("eta", "eta.test")


def test_list_shows_tenants_but_not_the_platform(db, tenant_a, tenant_b):
    lines = run("list").splitlines()
    assert lines[0].split() == ["SLUG", "NAME", "STATE", "DOMAINS"]
    rows = [line.split() for line in lines[1:]]
    assert ["alpha", "Alpha", "active", "alpha.test"] in rows
    assert ["beta", "Beta", "active", "beta.test"] in rows
    assert not any(row[0] == "public" for row in rows)


def test_delete_needs_yes_then_drops_the_schema(db):
    run("create", "theta", "--domain", "theta.test")
    with pytest.raises(CommandError, match="add --yes to confirm"):
        run("delete", "theta")
    assert schema_exists("theta")
    assert run("delete", "theta", "--yes").strip() == "deleted tenant theta and dropped its schema"
    assert_nothing_created("theta", "theta.test")


def test_delete_refuses_public_and_unknown(db):
    with pytest.raises(CommandError, match="cannot be deleted"):
        run("delete", "public", "--yes")
    with pytest.raises(CommandError, match=r"^no tenant with slug 'nobody'$"):
        run("delete", "nobody", "--yes")
