"""The platform admin (public host): adding a tenant with its first admin through tenant_create, the
tenants' certificate counts and health on the list; django-tenants' own tenant commands answered with
certmate's; ``tenant create`` asking for the first admin's password in a terminal only."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists, tenant_context

from apps.accounts.models import Role, Tenant, User
from apps.accounts.services.users import user_create
from apps.certificates.models import Certificate, CertificateVersion
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.conftest import PASSWORD, PUBLIC_HOST, TENANT_A, TENANT_B
from tests.factories import certificate_make

PLATFORM = {"host": PUBLIC_HOST}
OPERATOR = "operator@platform.test"
ADD = "/admin/accounts/tenant/add/"
LIST = "/admin/accounts/tenant/"


@pytest.fixture
def platform(db, client, public_schema_name) -> Client:
    with schema_context(public_schema_name):
        user_create(email=OPERATOR, password=PASSWORD, role="admin", actor=Actor.command())
    response = client.post("/admin/login/", {"username": OPERATOR, "password": PASSWORD}, headers=PLATFORM)
    assert response.status_code == 302
    return client


def test_add_tenant_creates_its_schema_domain_and_first_admin(platform):
    form = {"slug": "gamma", "name": "Gamma Corp", "domain": "gamma.test", "admin_email": "Ops@Gamma.test",
            "admin_password": PASSWORD}  # fmt: skip
    response = platform.post(ADD, form, headers=PLATFORM)
    assert response.status_code == 302, response.content.decode()[:3000]
    tenant = Tenant.objects.get(schema_name="gamma")
    assert tenant.name == "Gamma Corp" and tenant.get_primary_domain().domain == "gamma.test"
    assert schema_exists("gamma")
    with tenant_context(tenant):
        first = User.objects.get()
        assert (first.email, first.role) == ("ops@gamma.test", Role.ADMIN) and first.check_password(PASSWORD)
        event = AuditEvent.objects.get(action="user.created")
    # The tenant's log names the platform operator, never as one of its own users' ids.
    assert (event.channel, event.actor_id, event.actor_name) == ("admin", None, f"platform operator {OPERATOR}")
    # The new tenant's admin signs in on its host.
    signed_in = Client().post("/admin/login/", {"username": "ops@gamma.test", "password": PASSWORD},
                              headers={"host": "gamma.test"})  # fmt: skip
    assert signed_in.status_code == 302


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"slug": TENANT_A["slug"]}, None, "tenant slug 'alpha' is already taken"),
        ({"domain": TENANT_B["domain"]}, None, "domain beta.test already serves tenant beta"),
        ({"admin_password": ""}, None, "give the first admin's e-mail and password together"),
        ({"admin_password": "short"}, None, "This password is too short"),
    ],
)
def test_add_tenant_refusals_are_the_services_words_and_nothing_is_created(platform, change, field, message):
    form = {"slug": "delta", "name": "", "domain": "delta.test", "admin_email": "ops@delta.test",
            "admin_password": PASSWORD, **change}  # fmt: skip
    tenants = Tenant.objects.count()
    response = platform.post(ADD, form, headers=PLATFORM)
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors.get("__all__", []))
    assert PASSWORD not in response.content.decode()
    assert Tenant.objects.count() == tenants and not schema_exists("delta")


def test_a_tenant_without_a_first_admin_is_allowed(platform):
    response = platform.post(ADD, {"slug": "epsilon", "name": "", "domain": "epsilon.test"}, headers=PLATFORM)
    assert response.status_code == 302
    with tenant_context(Tenant.objects.get(schema_name="epsilon")):
        assert not User.objects.exists()


def test_the_tenants_list_shows_certificate_counts_and_health_in_a_constant_number_of_queries(
    platform, tenant_a, tenant_b
):
    with tenant_context(tenant_a):
        certificate_make("ok.alpha.test")
        failing = certificate_make("fail.alpha.test")
        Certificate.objects.filter(pk=failing.pk).update(status="failed")
        soon = certificate_make("soon.alpha.test")
        in_two_days = timezone.now() + timedelta(days=2)
        CertificateVersion.objects.filter(pk=soon.current_version_id).update(not_after=in_two_days)
    with CaptureQueriesContext(connection) as two_tenants:
        listing = platform.get(LIST, headers=PLATFORM)
    rows = {row.schema_name: row.summary for row in listing.context["cl"].result_list}
    assert (rows["alpha"].certificates, rows["alpha"].health) == (3, "1 failed, 1 expires within 7 days")
    assert (rows["beta"].certificates, rows["beta"].health) == (0, "ok")
    html = listing.content.decode()
    assert '<span class="days-left band-urgent">1 failed, 1 expires within 7 days</span>' in html
    assert '<span class="days-left band-ok">ok</span>' in html
    assert platform.post(ADD, {"slug": "zeta", "name": "", "domain": "zeta.test"}, headers=PLATFORM).status_code == 302
    with CaptureQueriesContext(connection) as three_tenants:
        platform.get(LIST, headers=PLATFORM)
    assert len(three_tenants) == len(two_tenants)


def test_a_tenants_admin_cannot_reach_the_platform_admin(client, tenant_a):
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD},
                           headers=PLATFORM)  # fmt: skip
    assert response.status_code == 200  # no such user on the platform host
    assert client.get(LIST, headers=PLATFORM)["Location"].startswith("/admin/login/")


def test_the_platform_admin_offers_no_view_site_link(platform):
    assert "View site" not in platform.get("/admin/", headers=PLATFORM).content.decode()


# --- commands ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "instead"),
    [
        ("create_tenant", "manage.py tenant create SLUG --domain HOST"),
        ("delete_tenant", "manage.py tenant delete SLUG --yes"),
        ("create_tenant_superuser", "--admin-email E-MAIL"),
        ("clone_tenant", "manage.py tenant create SLUG --domain HOST"),
    ],
)
def test_django_tenants_own_tenant_commands_point_to_certmates(db, command, instead):
    tenants = Tenant.objects.count()
    with pytest.raises(CommandError, match="certmate does not offer this command") as refused:
        call_command(command)
    assert instead in str(refused.value) and Tenant.objects.count() == tenants


def test_django_tenants_create_tenant_as_typed_says_the_same_whatever_follows():
    typed = ["create_tenant", "--schema_name", "omega", "--domain-domain", "omega.test", "--noinput"]
    done = subprocess.run([sys.executable, "manage.py", *typed], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "CommandError: certmate does not offer this command: use `manage.py tenant create SLUG --domain HOST "
        "[--admin-email E-MAIL]` instead"
    )


def _create(*args, tty: bool, typed: list[str], monkeypatch) -> str:
    monkeypatch.setattr(sys, "stdin", type("Stdin", (io.StringIO,), {"isatty": lambda self: tty})())
    answers = iter(typed)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    out = io.StringIO()
    call_command("tenant", "create", *args, stdout=out)
    return out.getvalue()


def test_tenant_create_asks_for_the_password_in_a_terminal(db, monkeypatch):
    out = _create("eta", "--domain", "eta.test", "--admin-email", "ops@eta.test", tty=True,
                  typed=[PASSWORD, PASSWORD], monkeypatch=monkeypatch)  # fmt: skip
    assert out.strip() == "created tenant eta at eta.test with admin ops@eta.test"
    with tenant_context(Tenant.objects.get(schema_name="eta")):
        assert User.objects.get().check_password(PASSWORD)


@pytest.mark.parametrize(
    ("tty", "typed", "message"),
    [
        (True, [PASSWORD, PASSWORD + "x"], "the two passwords differ"),
        (True, ["", ""], "an empty password"),
        (False, [], "give --admin-password, or run the command in a terminal"),
    ],
)
def test_tenant_create_without_a_usable_password_creates_nothing(db, monkeypatch, tty, typed, message):
    with pytest.raises(CommandError, match=message):
        _create("theta", "--domain", "theta.test", "--admin-email", "ops@theta.test", tty=tty, typed=typed,
                monkeypatch=monkeypatch)  # fmt: skip
    assert not Tenant.objects.filter(schema_name="theta").exists() and not schema_exists("theta")
