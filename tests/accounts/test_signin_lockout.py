"""Sign-in lockout: guessing passwords on a tenant's admin or the platform admin stops working after a
few tries, per username and address and per address, in that schema only, until the cool-off passes
or an admin lifts it; API tokens do not care."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.accounts.models import Role, User
from apps.accounts.services.sso import sso_settings_update
from apps.accounts.services.tokens import token_create
from apps.accounts.services.users import user_create
from apps.accounts.signin import signin_allowed, signin_failed, signin_refused
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.conftest import PASSWORD, PUBLIC_HOST, TENANT_A, TENANT_B

ALPHA, BETA = TENANT_A["domain"], TENANT_B["domain"]
BOB = "bob@shared.test"  # a user of both tenants, with the same e-mail
LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes."
SSO_VALUES = {
    "enabled": True, "name": "IdP", "issuer": "https://idp.example", "client_id": "certmate",
    "client_secret": "client-secret", "scopes": "openid email", "role_claim": "groups",
    "role_values": {"admin": ["admins"]}, "sso_only": False,
}  # fmt: skip


def sign_in(host: str, username: str, password: str, address: str = "127.0.0.1", **headers):
    return Client().post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        headers={"host": host, **headers},
        REMOTE_ADDR=address,
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


@pytest.fixture
def bob(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            user_create(email=BOB, password=PASSWORD, role=Role.ADMIN, actor=Actor.command())
    return BOB


@pytest.fixture
def operator(db):
    with schema_context("public"):
        return user_create(
            email="operator@platform.test", password=PASSWORD, role=Role.ADMIN, actor=Actor.command()
        ).email


def test_tenant_admin_refuses_the_right_password_after_200_wrong_ones(bob, tenant_a, tenant_b):
    answers = [sign_in(ALPHA, bob, f"guess-{n}") for n in range(200)]
    assert [a.status_code for a in answers[:4]] == [200] * 4  # the form again, "enter a correct e-mail…"
    assert {a.status_code for a in answers[4:]} == {429}
    refused = sign_in(ALPHA, bob, PASSWORD)
    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert refused["Retry-After"] == "900"
    assert "sessionid" not in refused.cookies
    # Audited in alpha: every failure (the right password while locked is one), none anywhere else.
    with tenant_context(tenant_a):
        assert AccessFailureLog.objects.filter(username=bob).count() == 201
        assert AccessFailureLog.objects.filter(username=bob, locked_out=True).count() == 197
    with tenant_context(tenant_b):
        assert not AccessFailureLog.objects.exists()
        assert not AccessAttempt.objects.exists()
    # The same e-mail, from the same address, on another tenant: its own account, unaffected.
    assert signed_in(sign_in(BETA, bob, PASSWORD))
    with tenant_context(tenant_b):
        assert AccessLog.objects.filter(username=bob).count() == 1


def test_platform_admin_refuses_the_right_password_after_100_wrong_ones(operator, tenant_a):
    for n in range(100):
        assert sign_in(PUBLIC_HOST, operator, f"guess-{n}").status_code in (200, 429)
    assert sign_in(PUBLIC_HOST, operator, PASSWORD).status_code == 429
    with schema_context("public"):
        assert AccessFailureLog.objects.filter(username=operator).count() == 101
    with tenant_context(tenant_a):
        assert not AccessFailureLog.objects.exists()
    # The platform's lockout is not alpha's: its admin signs in from the same address.
    assert signed_in(sign_in(ALPHA, TENANT_A["admin_email"], PASSWORD))


def test_one_address_guessing_many_accounts_is_locked_out(tenant_a):
    for n in range(20):  # one failure each for 20 usernames: no username reaches its own limit
        assert sign_in(ALPHA, f"user{n}@alpha.test", "guess", address="203.0.113.9").status_code in (200, 429)
    assert sign_in(ALPHA, TENANT_A["admin_email"], PASSWORD, address="203.0.113.9").status_code == 429
    assert signed_in(sign_in(ALPHA, TENANT_A["admin_email"], PASSWORD, address="203.0.113.10"))


def test_the_lock_is_per_username_and_address(bob, tenant_a):
    for _ in range(5):
        sign_in(ALPHA, bob, "guess", address="203.0.113.9")
    assert sign_in(ALPHA, bob, PASSWORD, address="203.0.113.9").status_code == 429
    # Bob elsewhere, and another user from that address, still sign in (no one can lock bob out).
    assert signed_in(sign_in(ALPHA, bob, PASSWORD, address="198.51.100.4"))
    assert signed_in(sign_in(ALPHA, TENANT_A["admin_email"], PASSWORD, address="203.0.113.9"))
    # The username counts in lower case, trimmed: changing its case does not reset the count.
    assert sign_in(ALPHA, " BOB@Shared.Test", PASSWORD, address="203.0.113.9").status_code == 429


def test_forwarded_addresses_count_only_behind_configured_proxies(bob, tenant_a):
    # No proxy configured: a client rotating X-Forwarded-For is still one address.
    for n in range(5):
        sign_in(ALPHA, bob, "guess", x_forwarded_for=f"198.51.100.{n}")
    assert sign_in(ALPHA, bob, PASSWORD, x_forwarded_for="198.51.100.99").status_code == 429
    rest = {"REST_FRAMEWORK": {"NUM_PROXIES": 1}}
    with override_settings(**rest):
        # Behind one proxy, the address it saw (the last one it appended) is the client's; what the
        # client put before it counts for nothing.
        for _ in range(5):
            sign_in(ALPHA, TENANT_A["admin_email"], "guess", x_forwarded_for="10.0.0.1, 192.0.2.50")
        refused = sign_in(ALPHA, TENANT_A["admin_email"], PASSWORD, x_forwarded_for="10.0.0.2, 192.0.2.50")
        assert refused.status_code == 429
        assert signed_in(sign_in(ALPHA, TENANT_A["admin_email"], PASSWORD, x_forwarded_for="192.0.2.50, 192.0.2.51"))
    with tenant_context(tenant_a):
        addresses = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert addresses == {"127.0.0.1", "192.0.2.50"}


def test_sign_in_works_again_once_the_cool_off_has_passed(bob, tenant_a):
    with override_settings(AXES_COOLOFF_TIME=timedelta(seconds=2)):
        for _ in range(5):
            sign_in(ALPHA, bob, "guess")
        locked = sign_in(ALPHA, bob, PASSWORD)
        assert locked.status_code == 429
        assert "Try again in 1 minute." in locked.content.decode()
        time.sleep(2.2)
        assert signed_in(sign_in(ALPHA, bob, PASSWORD))


def test_scripts_asking_for_json_get_the_api_error_shape(bob, tenant_a):
    for _ in range(5):
        sign_in(ALPHA, bob, "guess")
    refused = sign_in(ALPHA, bob, PASSWORD, accept="application/json")
    assert refused.status_code == 429
    assert refused.json() == {"error": LOCKED, "code": "signin_locked"}


def test_tenant_admin_unlocks_a_user_and_sees_only_its_tenants_attempts(bob, tenant_a, tenant_b):
    for _ in range(5):
        sign_in(ALPHA, bob, "guess")
        sign_in(BETA, bob, "guess")
    admin = Client()  # alpha's admin signs in through the form, from another address
    page = admin.post(
        "/admin/login/?next=/admin/",
        {"username": TENANT_A["admin_email"], "password": PASSWORD},
        headers={"host": ALPHA},
        REMOTE_ADDR="192.0.2.10",
    )
    assert signed_in(page)
    listing = admin.get("/admin/axes/accessattempt/", headers={"host": ALPHA})
    assert listing.status_code == 200 and bob in listing.content.decode()
    with tenant_context(tenant_a):
        ids = [str(pk) for pk in AccessAttempt.objects.filter(username=bob).values_list("pk", flat=True)]
    deleted = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
        headers={"host": ALPHA},
    )
    assert deleted.status_code == 302
    assert signed_in(sign_in(ALPHA, bob, PASSWORD))
    # Beta's lockout is beta's: alpha's admin neither saw nor lifted it.
    assert sign_in(BETA, bob, PASSWORD).status_code == 429
    with tenant_context(tenant_a):
        assert AccessFailureLog.objects.filter(username=bob).count() == 5  # the record stays
        unlocked = AuditEvent.objects.get(action="signin.unlocked", object_name__contains=bob)
        assert (unlocked.channel, unlocked.actor_name) == ("admin", TENANT_A["admin_email"])
        assert unlocked.object_name == f"{bob}@127.0.0.1" and unlocked.changes["locked"] == [[f"{bob}@127.0.0.1"], []]
    with tenant_context(tenant_b):
        assert not AuditEvent.objects.filter(action="signin.unlocked", object_name__contains=bob).exists()


def test_platform_admin_lists_its_own_attempts(operator, bob, tenant_a):
    for _ in range(5):
        sign_in(ALPHA, bob, "guess")
    sign_in(PUBLIC_HOST, operator, "guess")
    platform = Client()
    assert signed_in(
        platform.post("/admin/login/?next=/admin/", {"username": operator, "password": PASSWORD},
                      headers={"host": PUBLIC_HOST})
    )  # fmt: skip
    page = platform.get("/admin/axes/accessattempt/", headers={"host": PUBLIC_HOST}).content.decode()
    assert operator in page and bob not in page


def test_unlock_command_per_tenant_and_for_the_platform(bob, operator, tenant_a, tenant_b, capsys):
    for _ in range(5):
        sign_in(ALPHA, bob, "guess")
        sign_in(BETA, bob, "guess")
        sign_in(PUBLIC_HOST, operator, "guess")
    call_command("signin", "list", "--tenant", "alpha")
    listing = capsys.readouterr().out
    assert bob in listing and "127.0.0.1" in listing and operator not in listing
    call_command("signin", "unlock", "--tenant", "alpha", "--username", "BOB@shared.test")
    assert "1 failure record(s) forgotten" in capsys.readouterr().out
    with tenant_context(tenant_a):
        unlocked = AuditEvent.objects.get(action="signin.unlocked", object_name__contains=bob)
        assert (unlocked.channel, unlocked.actor_name) == ("command", "manage.py signin unlock")
    assert signed_in(sign_in(ALPHA, bob, PASSWORD))
    assert sign_in(BETA, bob, PASSWORD).status_code == 429
    assert sign_in(PUBLIC_HOST, operator, PASSWORD).status_code == 429
    call_command("signin", "unlock", "--platform", "--address", "127.0.0.1")
    assert signed_in(sign_in(PUBLIC_HOST, operator, PASSWORD))
    assert sign_in(BETA, bob, PASSWORD).status_code == 429


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "alpha"], "give a username, an address or both"),
        (["--tenant", "alpha", "--address", "not-an-ip"], "'not-an-ip' is not an IP address"),
        (["--tenant", "nobody", "--username", "x@y.test"], "no tenant with slug 'nobody'"),
    ],
)
def test_unlock_command_refuses_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("signin", "unlock", *args)


def test_api_tokens_and_open_sessions_work_from_a_locked_out_address(bob, tenant_a):
    with tenant_context(tenant_a):
        _, raw = token_create(user=User.objects.get(email=bob), role=Role.ADMIN, name="script", actor=Actor.command())
    session = Client()
    assert signed_in(session.post("/admin/login/?next=/admin/", {"username": bob, "password": PASSWORD},
                                  headers={"host": ALPHA}))  # fmt: skip
    for n in range(20):
        sign_in(ALPHA, f"user{n}@alpha.test", "guess")
    assert sign_in(ALPHA, bob, PASSWORD).status_code == 429
    answer = Client().get("/api/certificates", headers={"host": ALPHA, "authorization": f"Bearer {raw}"})
    assert answer.status_code == 200
    # The lock is on signing in: a session opened before it still reaches the API (DRF's session auth).
    assert session.get("/api/certificates", headers={"host": ALPHA}).status_code == 200


def test_sign_ins_without_a_password_use_the_same_rules(rf, tenant_a, tenant_b):
    """What the portal and OpenID Connect sign-in call: refused identities count, per tenant."""
    request = rf.post("/oidc/callback/", REMOTE_ADDR="203.0.113.7")
    with tenant_context(tenant_a):
        for _ in range(5):
            assert signin_allowed(request, username=BOB)
            signin_failed(request, username=BOB)
        assert not signin_allowed(request, username=BOB)
        assert signin_allowed(request, username="someone-else@shared.test")
        refused = signin_refused(request, username=BOB)
        assert refused.status_code == 429 and LOCKED in refused.content.decode()
    with tenant_context(tenant_b):
        assert signin_allowed(request, username=BOB)


def test_a_client_failing_on_and_on_does_not_grow_its_record(bob, tenant_a):
    padding = "p" * 900  # axes keeps each failure's form data (passwords masked) on the attempt's row
    for _ in range(40):
        Client().post("/admin/login/", {"username": bob, "password": "guess", "note": padding},
                      headers={"host": ALPHA})  # fmt: skip
    with tenant_context(tenant_a):
        attempt = AccessAttempt.objects.get(username=bob)
    assert attempt.failures_since_start == 40
    assert len(attempt.post_data) <= 4000
    assert "guess" not in attempt.post_data and padding[:100] in attempt.post_data


def test_prune_deletes_old_sign_in_records_of_the_platform_and_every_tenant(bob, operator, tenant_a, tenant_b, capsys):
    sign_in(ALPHA, bob, "guess")
    sign_in(BETA, bob, PASSWORD)
    sign_in(PUBLIC_HOST, operator, "guess")
    old = timezone.now() - timedelta(days=100)
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            for model in (AccessFailureLog, AccessLog):  # records from 100 days ago (the time is set on create)
                record = model.objects.create(username=bob, ip_address="192.0.2.1", user_agent="x")
                model.objects.filter(pk=record.pk).update(attempt_time=old)
    call_command("signin", "prune", "--days", "90")
    report = capsys.readouterr().out
    assert "alpha: 2 sign-in record(s) older than 90 days deleted" in report
    assert "platform: 0 sign-in record(s)" in report
    with tenant_context(tenant_a):
        assert list(AccessFailureLog.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]
        assert not AccessLog.objects.exists()
        pruned = AuditEvent.objects.get(action="signin.records_pruned")
        assert (pruned.channel, pruned.changes) == ("command", {"deleted": {"sign_ins": 1, "failures": 1}})
    with tenant_context(tenant_b):
        assert list(AccessLog.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]
    with schema_context("public"):
        assert AccessFailureLog.objects.filter(username=operator).count() == 1
    with pytest.raises(CommandError, match="keep at least 1 day"):
        call_command("signin", "prune", "--days", "0")


def test_a_sign_in_callback_this_browser_never_started_counts_for_nothing(bob, tenant_a):
    # Any page can make a visitor's browser fetch /sso/callback/ (an <img> is enough, no cookie needed):
    # if that counted as a failed sign-in, a page could lock its visitors (or a whole office behind one
    # address) out of their tenant. A callback without a state this session started is no sign-in attempt.
    with tenant_context(tenant_a):
        sso_settings_update(values=SSO_VALUES, actor=Actor.command())
    browser = Client()
    for query in ("", "?error=access_denied", "?code=x&state=forged", "?state=forged&error=login_required") * 10:
        answer = browser.get(f"/sso/callback/{query}", headers={"host": ALPHA}, REMOTE_ADDR="198.51.100.7")
        assert answer.status_code == 302
    assert signed_in(sign_in(ALPHA, bob, PASSWORD, address="198.51.100.7"))


def test_a_sign_in_callback_this_browser_never_started_signs_nobody_out(bob, tenant_a):
    # The library signs the browser out on any ?error=…: a link on any site would end a user's session.
    with tenant_context(tenant_a):
        sso_settings_update(values=SSO_VALUES, actor=Actor.command())
    browser = Client()
    assert (
        browser.post("/admin/login/", {"username": bob, "password": PASSWORD}, headers={"host": ALPHA}).status_code
        == 302
    )
    assert browser.get("/sso/callback/?error=access_denied", headers={"host": ALPHA}).status_code == 302
    assert browser.get("/admin/", headers={"host": ALPHA}).status_code == 200
