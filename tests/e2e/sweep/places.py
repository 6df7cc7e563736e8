"""Each place the sweep looks in: API answers, admin pages, recorded job and error texts, and where the
private keys must be (the storage backend). Every function appends what it finds to a list of leaks and
returns a figure that shows it looked (pages rendered, answers holding a key, ...)."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections import defaultdict
from pathlib import Path

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from apps.accounts.models import Role, User
from apps.accounts.services.users import user_create
from apps.accounts.sites import tenant_admin_site
from apps.certificates.models import Certificate, Job
from apps.storage.models import Publication, StorageConfig
from apps.storage.services import storage_backend, storage_config_active
from certmate.actors import Actor
from tests.conftest import PUBLIC_HOST
from tests.e2e.issuance import leftovers, unique
from tests.e2e.sweep.markers import Leak, MarkerScanner
from tests.e2e.sweep.walks import admin_pages, admin_signed_in, api_walk, unpacked
from tests.e2e.sweep.world import ROLES, TenantWorld

KEY_DOWNLOADS = {"/api/certificates/{domain}/download", "/api/certificates/{domain}/download/{file_type}"}
ISSUED_KEY = "private key"
OUTSIDERS = ("anonymous", "the other tenant's admin")


def api_answers(world: TenantWorld, other: TenantWorld, pfx_password: str, leaks: list[Leak]) -> dict[str, int]:
    """Every GET of the schema as each role, anonymously and with the other tenant's admin token. Private
    keys may only be in key downloads to an operator or admin. Returns how many answers there were, and
    how many held a key."""
    scanner = world.scanner
    schema = world.client(None).get("/api/schema/", {"format": "json"}).json()
    clients = {str(role): world.clients[role] for role in ROLES}
    clients |= dict(zip(OUTSIDERS, (world.client(None), world.client(other.tokens[Role.ADMIN])), strict=True))
    keys = [label for label, kind in scanner.labels.items() if kind == ISSUED_KEY and label.startswith(world.slug)]
    with_key = answers = 0
    walk = api_walk(
        schema=schema, host=world.host, admin_token=world.tokens[Role.ADMIN], clients=clients, brief=set(OUTSIDERS),
        pfx_password=pfx_password,
    )  # fmt: skip
    for name, template, url, response in walk:
        may_hold_key = template in KEY_DOWNLOADS and name in (Role.ADMIN, Role.OPERATOR)
        allowed = frozenset({ISSUED_KEY}) if may_hold_key else frozenset()
        answers += 1
        for part, content in unpacked(f"{world.slug} as {name}: GET {url} → {response.status_code}", response):
            leaks += scanner.scan(part, content, allowed_kinds=allowed)
            with_key += any(scanner.found(content, label) for label in keys)
    return {"answers": answers, "with a key": with_key}


def _pages(scanner: MarkerScanner, client: Client, site, urlconf: str, objects_of, who: str, leaks) -> dict:
    statuses: dict[int, int] = defaultdict(int)
    for url in admin_pages(site, urlconf, objects_of):
        response = client.get(url)
        statuses[response.status_code] += 1
        leaks += scanner.scan(f"{who}: {url} → {response.status_code}", response.content)
    return dict(statuses)


def tenant_admin_pages(world: TenantWorld, leaks: list[Leak]) -> dict[str, dict[int, int]]:
    """A wrong password, then each role signs in through the form and opens every page it can; the admin
    also sends two forms back with errors, secrets typed in. Returns the page statuses per role."""
    scanner = world.scanner
    mistyped = scanner.secret(f"{world.slug} mistyped password", "password", extra="+/ &")
    refused = Client(HTTP_HOST=world.host).post(
        "/admin/login/", {"username": world.email(Role.ADMIN), "password": mistyped}
    )
    leaks += scanner.scan(f"{world.host} refused sign-in", refused.content)

    def objects_of(model):
        with tenant_context(world.tenant):
            return list(model._default_manager.all()[:30])

    statuses = {}
    for role in ROLES:
        client = admin_signed_in(world.host, world.email(role), world.passwords[role])
        who = f"{world.host} as {role}"
        statuses[str(role)] = _pages(scanner, client, tenant_admin_site, "certmate.urls_tenant", objects_of, who, leaks)
        if role == Role.ADMIN:
            _refused_forms(world, client, leaks)
    return statuses


def _refused_forms(world: TenantWorld, client: Client, leaks: list[Leak]) -> None:
    """Forms that come back with an error must not come back with the secrets typed into them."""
    scanner = world.scanner
    typed = scanner.base64_secret(f"{world.slug} TSIG secret typed into a refused form", "dns")
    dns = {
        "name": "typo",
        "provider": "rfc2136",
        "propagation_seconds": "1",
        "credentials_json": json.dumps({"tsig_key": "k", "tsig_secret": typed}),
    }  # fmt: skip  (no nameserver)
    token = scanner.secret(f"{world.slug} Vault token typed into a refused form", "storage")
    storage = {
        "backend": "hashicorp_vault",
        "settings": json.dumps({"url": "http://127.0.0.1:9"}),
        "credentials_json": json.dumps({"token": token}),
    }  # fmt: skip  (nothing listens on port 9)
    for path, form in (("/admin/certificates/dnsaccount/add/", dns), ("/admin/storage/storageconfig/add/", storage)):
        response = client.post(path, form)
        assert response.status_code == 200, f"{path} accepted a form it should refuse ({response.status_code})"
        leaks += scanner.scan(f"{world.host} refused form {path}", response.content)


def platform_admin_pages(scanner: MarkerScanner, cleanup: contextlib.ExitStack, leaks: list[Leak]) -> dict:
    """A platform operator (marker password) signs in on the public host and opens every page."""
    password = scanner.secret("platform operator password", "password", extra="+/ &")
    with schema_context("public"):
        operator = user_create(
            email=f"{unique('ops')}@platform.test", password=password, role=Role.ADMIN, actor=Actor.command()
        )
    cleanup.callback(_operator_delete, operator.pk)
    client = admin_signed_in(PUBLIC_HOST, operator.email, password)

    def objects_of(model):
        with schema_context("public"):
            return list(model._default_manager.order_by("-pk")[:30])

    return _pages(scanner, client, admin.site, "certmate.urls_public", objects_of, "platform operator", leaks)


def _operator_delete(pk: int) -> None:
    """Row by row: a cascading delete would look for API tokens, which the public schema has no table for."""
    tables = [User.groups.through._meta.db_table, User.user_permissions.through._meta.db_table]
    with schema_context("public"), connection.cursor() as cursor:
        for table in [*tables, LogEntry._meta.db_table]:
            cursor.execute(f"DELETE FROM {table} WHERE user_id = %s", [pk])  # noqa: S608 - Django's table names
        cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE id = %s", [pk])  # noqa: S608


def records(world: TenantWorld, leaks: list[Leak]) -> int:
    """Job output and errors, and every other recorded error text, as stored. Returns the jobs seen."""
    scanner, count = world.scanner, 0
    with tenant_context(world.tenant):
        for job in Job.objects.all():
            count += 1
            leaks += scanner.scan(f"{world.slug} job {job.pk} error", job.error)
            leaks += scanner.scan(f"{world.slug} job {job.pk} output", job.output)
        recorded = [
            *(f"certificate {c.identifier}: {c.last_error}" for c in Certificate.objects.all()),
            *(f"publication {p.pk}: {p.last_error}" for p in Publication.objects.all()),
            *(f"storage target {s.pk}: {s.last_test_error}" for s in StorageConfig.objects.all()),
        ]
        leaks += scanner.scan(f"{world.slug} recorded errors", "\n".join(recorded))
    return count


def commands(world: TenantWorld, leaks: list[Leak]) -> int:
    """What the operators' read-only commands print about the tenant (out, err, or the error they stop
    with). Returns how many printed something."""
    runs = [
        ("tenant", "list"), ("token", "list", "--tenant", world.slug), ("certificate", "list", "--tenant", world.slug),
        ("storage", "status", "--tenant", world.slug), ("storage", "test", "--tenant", world.slug),
    ]  # fmt: skip
    printed = 0
    for argv in runs:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(*argv, stdout=out, stderr=err)
        except CommandError as exc:
            err.write(str(exc))
        text = out.getvalue() + err.getvalue()
        printed += bool(text.strip())
        leaks += world.scanner.scan(f"manage.py {' '.join(argv)}", text)
    return printed


def run_folders(scanner: MarkerScanner, leaks: list[Leak]) -> None:
    """certbot's run folders (its own log, the credentials files) are removed after each run; any left in
    the temp folder (this machine's other runs' too) must hold none of these secrets."""
    for folder in leftovers():
        for path in Path(tempfile.gettempdir(), folder).rglob("*"):
            with contextlib.suppress(OSError):  # another run's folder may vanish meanwhile
                if path.is_file():
                    leaks += scanner.scan(f"certbot run file {path}", path.read_bytes())


def keys_in_storage(world: TenantWorld) -> list[bool]:
    """Whether the storage backend holds each current private key (where keys belong)."""
    found = []
    with tenant_context(world.tenant):
        backend = storage_backend(storage_config_active())
        for certificate in Certificate.objects.exclude(current_version=None).select_related("current_version"):
            bundle = backend.read(certificate.kind, certificate.identifier)
            key = bundle.files()["privkey.pem"] if bundle else ""
            found.append(key == certificate.current_version.private_key)
    return found
