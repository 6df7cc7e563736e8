"""The secrets sweep: after a full end-to-end run in two tenants whose every secret is a marker, no secret
is in the database dump, the logs, the job records, any API answer, any admin page or the operators'
commands' output.

The run, through the real components: Pebble with external account binding (a marker HMAC key per
tenant), BIND9 with a marker TSIG secret, a real Celery worker, OpenBao (tenant one's storage, a marker
token) and moto_server (tenant two's, marker AWS keys). Each tenant has users with marker passwords who
sign in through the admin's form, API tokens per role, a DNS account of another provider that is only
stored, a CA account that is only stored, single sign-on with a marker client secret (stored only), and
a DNS account with a wrong TSIG secret whose job fails.
Certificates are issued, renewed, downloaded and listed. What certmate generates itself is registered
once it exists: the issued private keys (which belong in key downloads and the storage backend only)
and the ACME account keys (which belong nowhere but the database, encrypted).

The run happens once per module; each test asserts one place, so a leak names where it is.
"""

from __future__ import annotations

import contextlib
import string
import time
from collections import defaultdict

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.accounts.services.tenants import tenant_create, tenant_delete
from certmate.actors import Actor
from tests.database_dump import database_dump, pg_dump_program
from tests.e2e.issuance import rfc2136_credentials, unique
from tests.e2e.servers import Bind9
from tests.e2e.sweep import places
from tests.e2e.sweep.markers import MarkerScanner, leak_report
from tests.e2e.sweep.world import RecordingLogs, TenantWorld
from tests.storage.servers import Bao, MotoServer
from tests.tools import missing_tool

# The first test pays for the whole run (about two minutes here; jobs wait at most JOB_TIMEOUT twice).
pytestmark = [pytest.mark.tools, pytest.mark.worker, pytest.mark.timeout(480)]
JOB_TIMEOUT = 90

PLACES = ("database dump", "logs", "job records", "API answers", "admin pages", "command output")
UPPER = string.ascii_uppercase + string.digits


# -- the run ------------------------------------------------------------------------------------------


def configure(world: TenantWorld, *, ca, dns: Bind9, kid: str, hmac: str, storage: dict, other_dns: dict) -> None:
    """What a tenant's admin sets up, every secret a marker."""
    scanner, slug, email = world.scanner, world.slug, f"pki@{world.host}"
    world.add_people()
    pebble = {"directory_url": ca.directory_url, "trust_bundle": ca.ca_bundle.read_text(), "eab_kid": kid}
    stored_only = {"directory_url": "zerossl", "eab_kid": "kid-7"}  # never contacted
    for name, account, hmac_key in (
        ("pebble", pebble, hmac),
        ("stored-only", stored_only, scanner.base64_secret(f"{slug} stored-only EAB HMAC key", "ca", urlsafe=True)),
    ):
        body = {"name": name, "email": email, "eab_hmac_key": hmac_key, **account}
        world.call(Role.ADMIN, "post", "/api/ca-accounts", body)
    wrong = scanner.base64_secret(f"{slug} wrong TSIG secret", "dns")
    for name, secret in (("bind", dns.tsig_secret), ("bind-wrong", wrong)):
        body = {"name": name, "provider": "rfc2136", "credentials": rfc2136_credentials(dns, secret=secret)}
        world.call(Role.ADMIN, "post", "/api/dns-accounts", {**body, "propagation_seconds": 1})
    world.call(Role.ADMIN, "post", "/api/dns-accounts", other_dns)
    world.call(Role.ADMIN, "put", "/api/storage", storage)
    world.call(Role.ADMIN, "put", "/api/sso", sso_settings(world))
    made = world.call(Role.ADMIN, "post", "/api/tokens", {"name": "ci", "role": "operator"})
    scanner.add(f"{slug} token made through the API", made["token"], kind="token")  # from now on, a leak
    refused_changes(world, dns, storage)


def refused_changes(world: TenantWorld, dns: Bind9, storage: dict) -> None:
    """Changes the API refuses: their answers (scanned like all) must not echo the secrets sent with them."""
    scanner, slug = world.scanner, world.slug
    malformed = scanner.secret(f"{slug} malformed TSIG secret", "dns", extra="!*")  # not base64
    body = {"name": "malformed", "provider": "rfc2136", "credentials": rfc2136_credentials(dns, secret=malformed)}
    world.call(Role.ADMIN, "post", "/api/dns-accounts", body, expect=(400,))
    # A new client secret sent with an issuer the API refuses (plain http): the 400 must not echo it.
    refused_sso = {**sso_settings(world), "issuer": "http://idp.certmate.test"}
    refused_sso["client_secret"] = scanner.secret(f"{slug} refused SSO client secret", "sso", extra="+/&%")
    world.call(Role.ADMIN, "put", "/api/sso", refused_sso, expect=(400,))
    if storage["backend"] == "hashicorp_vault":  # Vault answers a wrong token with 403: certmate with 502
        wrong = {"token": scanner.secret(f"{slug} wrong Vault token", "storage")}
        world.call(Role.ADMIN, "put", "/api/storage", {**storage, "credentials": wrong}, expect=(502,))


def sso_settings(world: TenantWorld) -> dict:
    """Single sign-on turned on with a marker client secret (stored only: the provider is never contacted);
    the same secret on every call, registered once."""
    if not world.sso_secret:
        world.sso_secret = world.scanner.secret(f"{world.slug} SSO client secret", "sso", extra="+/&%")
    return {
        "enabled": True,
        "name": "Sweep IdP",
        "issuer": "https://idp.certmate.test",
        "client_id": f"certmate-{world.slug}",
        "client_secret": world.sso_secret,
        "scopes": "openid email",
        "role_claim": "groups",
        "role_values": {"admin": ["certmate-admins"], "viewer": ["certmate-viewers"]},
        "sso_only": False,
    }


def order(world: TenantWorld, dns_account: str) -> tuple[str, dict]:
    domain = f"{unique('sweep')}.certmate.test"
    body = {"domain": domain, "ca_provider": "pebble", "dns_provider": "rfc2136", "account_id": dns_account}
    return domain, world.call(Role.OPERATOR, "post", "/api/certificates/create", {**body, "async": True})


def wait_published(world: TenantWorld, timeout: float = 120) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        rows = world.call(Role.ADMIN, "get", "/api/storage/publications")
        states = [row["state"] for row in (rows["results"] if isinstance(rows, dict) else rows)]
        if all(state in ("published", "superseded") for state in states) or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def issue_fail_renew(worlds: list[TenantWorld]) -> dict:
    """Two orders per tenant (one whose DNS account has the wrong TSIG secret), then a forced renewal of
    the good one, every job through the worker, and the first version revoked at the CA. Returns the
    jobs' outcomes and domains."""
    orders = {world.slug: {"issue": order(world, "bind"), "wrong TSIG": order(world, "bind-wrong")} for world in worlds}
    deadline = time.monotonic() + JOB_TIMEOUT
    outcomes = {world.slug: {name: world.wait(job, deadline)["status"] for name, (_, job) in orders[world.slug].items()}
                for world in worlds}  # fmt: skip
    renewals = {}
    for world in worlds:
        domain = orders[world.slug]["issue"][0]
        renewals[world.slug] = world.call(
            Role.OPERATOR, "post", f"/api/certificates/{domain}/renew", {"force": True, "async": True}
        )
    for world in worlds:
        outcomes[world.slug]["renew"] = world.wait(renewals[world.slug], deadline + JOB_TIMEOUT)["status"]
    for world in worlds:  # signed with the ACME account key; the answer (or its job) is swept like the rest
        revoke = {"version": 1, "reason": "superseded"}
        domain = orders[world.slug]["issue"][0]
        revocation = world.call(Role.ADMIN, "post", f"/api/certificates/{domain}/revoke", revoke, expect=(200, 202))
        # The revoked version is published again (its metadata says so): wait for the job, then for that.
        outcomes[world.slug]["revoke"] = world.wait(revocation, deadline + 2 * JOB_TIMEOUT)["status"]
    return {
        "outcomes": outcomes,
        "domains": {slug: [domain for domain, _ in placed.values()] for slug, placed in orders.items()},
        "publications": {world.slug: wait_published(world) for world in worlds},
    }


def aws_keys(scanner: MarkerScanner, what: str) -> dict[str, str]:
    return {
        "access_key_id": scanner.secret(f"{what} key id", what.lower(), alphabet=UPPER, upper=True),
        "secret_access_key": scanner.secret(f"{what} secret key", what.lower(), extra="+/="),
    }


@pytest.fixture(scope="module")
def debug_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker logging everything it can (DEBUG), so its log is worth sweeping."""
    from tests.worker import Worker, purge_broker

    with django_db_blocker.unblock():
        purge_broker()
        process = Worker(tmp_path_factory.mktemp("worker") / "worker.log", loglevel="DEBUG").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sweep(django_db_setup, django_db_blocker, debug_worker, pebble_factory):
    """The whole run and every sweep, once: {"leaks": {place: [Leak]}, "facts": {...}}."""
    for tool in (Bind9, Bao, MotoServer):
        if reason := tool.missing_reason():
            missing_tool(reason)
    scanner, leaks, facts = MarkerScanner(), defaultdict(list), {}
    # The platform's own secrets, which no tenant may ever see either.
    scanner.add("Django SECRET_KEY", settings.SECRET_KEY, kind="platform")
    for number, key in enumerate(settings.CERTMATE_ENCRYPTION_KEYS, 1):
        scanner.add(f"encryption key {number}", key, kind="platform")
    with django_db_blocker.unblock(), contextlib.ExitStack() as stack:
        pg_dump = pg_dump_program()
        started, seconds = time.monotonic(), facts.setdefault("seconds", {})
        logs = stack.enter_context(RecordingLogs())
        dns, vault = Bind9(), Bao()
        dns.tsig_secret = scanner.base64_secret("TSIG secret", "dns")
        vault.root_token = scanner.secret("Vault token", "storage")
        stack.enter_context(dns), stack.enter_context(vault)
        moto = stack.enter_context(MotoServer())
        eab = {kid: scanner.base64_secret(f"{kid} EAB HMAC key", "ca", urlsafe=True) for kid in ("kid-1", "kid-2")}
        ca = pebble_factory(eab_keys=eab, dns_port=dns.port, nonce_reject_percent=0)
        worlds = []
        for _ in range(2):
            slug = unique("sweep")
            worlds.append(
                TenantWorld(
                    tenant_create(slug=slug, domain=f"{slug}.test", actor=Actor.command()),
                    scanner,
                    leaks["API answers"],
                )
            )
            stack.callback(tenant_delete, slug=slug)
        storages = [
            {"backend": "hashicorp_vault", "settings": {"url": vault.url}, "credentials": {"token": vault.root_token}},
            {"backend": "aws_secrets_manager", "settings": {"region": "eu-west-1", "endpoint_url": moto.endpoint_url},
             "credentials": aws_keys(scanner, "AWS")},
        ]  # fmt: skip
        other_dns = [
            {"name": "cf", "provider": "cloudflare",
             "credentials": {"api_token": scanner.secret("Cloudflare token", "dns", extra="-_")}},
            {"name": "r53", "provider": "route53", "credentials": aws_keys(scanner, "Route53")},
        ]  # fmt: skip
        for world, kid, storage, other in zip(worlds, eab, storages, other_dns, strict=True):
            configure(world, ca=ca, dns=dns, kid=kid, hmac=eab[kid], storage=storage, other_dns=other)
        seconds["set-up"] = time.monotonic() - started
        facts.update(issue_fail_renew(worlds))
        seconds["jobs"] = time.monotonic() - started - sum(seconds.values())
        for world in worlds:
            world.register_stored_keys()
        facts["keys in storage"] = {world.slug: places.keys_in_storage(world) for world in worlds}
        facts["account keys"] = sum(kind == "account key" for kind in scanner.labels.values())

        # Sign-ins through the admin's form (and a mistyped password), then every admin page.
        pages = leaks["admin pages"]
        facts["admin statuses"] = {world.slug: places.tenant_admin_pages(world, pages) for world in worlds}
        facts["admin statuses"]["platform"] = {"operator": places.platform_admin_pages(scanner, stack, pages)}

        seconds["admin pages"] = time.monotonic() - started - sum(seconds.values())
        # Every GET of the API, for every role; the PKCS#12 password of the downloads is a marker too.
        pfx = scanner.secret("PKCS#12 password", "password", extra="+/ &")
        facts["API"] = {
            world.slug: places.api_answers(world, other, pfx, leaks["API answers"])
            for world, other in zip(worlds, worlds[::-1], strict=True)
        }
        facts["jobs"] = sum(places.records(world, leaks["job records"]) for world in worlds)
        facts["commands"] = sum(places.commands(world, leaks["command output"]) for world in worlds)

        seconds["API"] = time.monotonic() - started - sum(seconds.values())
        # The database as a backup holds it, and every log.
        dump = database_dump(pg_dump)
        facts["dumped"] = all(domain in dump for domains in facts["domains"].values() for domain in domains)
        leaks["database dump"] += scanner.scan("pg_dump", dump)
        leaks["logs"] += scanner.scan(f"worker log {debug_worker.log_path}", debug_worker.log_text())
        leaks["logs"] += scanner.scan("this process's log records", "\n".join(logs.lines))
        facts["log records"] = len(logs.lines)
        places.run_folders(scanner, leaks["logs"])
        seconds["dump and logs"] = time.monotonic() - started - sum(seconds.values())
    with schema_context("public"):
        yield {"leaks": leaks, "facts": facts}


def test_the_run_used_every_secret(sweep):
    """Without this, a clean sweep could mean nothing happened."""
    facts = sweep["facts"]
    for slug, outcomes in facts["outcomes"].items():
        assert outcomes == {
            "issue": "succeeded",
            "wrong TSIG": "failed",
            "renew": "succeeded",
            "revoke": "succeeded",
        }, slug
    for slug, states in facts["publications"].items():
        assert states and set(states) <= {"published", "superseded"}, (slug, states)
    assert facts["keys in storage"] and all(all(found) and found for found in facts["keys in storage"].values())
    assert all(api["answers"] >= 200 and api["with a key"] >= 4 for api in facts["API"].values()), facts["API"]
    assert facts["account keys"] == 2, "both tenants' ACME accounts were registered and their keys looked for"
    assert facts["jobs"] >= 6 and facts["dumped"] and facts["log records"] > 0 and facts["commands"] == 10
    for where, roles in facts["admin statuses"].items():
        for role, statuses in roles.items():  # pages rendered, not only refused
            assert statuses.get(200, 0) >= 20, (where, role, statuses)


@pytest.mark.parametrize("place", PLACES)
def test_no_secret_in(sweep, place):
    leaks = sweep["leaks"][place]
    assert not leaks, leak_report(leaks)
