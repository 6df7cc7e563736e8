"""Browser fixtures: Chromium (Debian's, through Playwright) per module, certmate served on a loopback
port per module, a committed tenant per module, and ``portal``: that tenant's portal for one test
(see harness.Portal). Without Chromium or Playwright the tests skip with the reason (fail under CI=true).

Playwright's synchronous API keeps an asyncio loop running in the test's thread, where Django refuses
database calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set: it is set while the browser is open, and
only then (the server's threads have no loop and keep the check).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.db import connections
from django_tenants.utils import tenant_context

from apps.accounts.services.tenants import tenant_create, tenant_delete
from apps.certificates.models import CertificateStatus
from certmate.actors import Actor
from tests.browser import harness
from tests.browser.server import PortalServer
from tests.factories import certificate_make
from tests.tools import missing_tool

pytestmark = [pytest.mark.tools]


@pytest.fixture(scope="module")
def chromium(portal_server) -> Iterator:
    """A headless Chromium for the module's tests (closed before the server stops)."""
    reason = harness.missing_reason()
    if reason:
        missing_tool(reason)
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                # While Playwright's loop runs, asgiref hands this thread other database connections
                # (context-local, not thread-local): close them, or the test database cannot be dropped.
                connections.close_all()
                browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="module")
def portal_server(django_db_setup) -> Iterator[PortalServer]:
    with PortalServer() as server:
        yield server


def _tenant_made(prefix: str):
    slug = f"{prefix}{uuid.uuid4().hex[:10]}"
    # *.localhost: loopback, and a trustworthy origin for Chromium (as https is in production).
    return tenant_create(slug=slug, domain=f"{slug}.localhost", name="Browser test", actor=Actor.command())


@pytest.fixture(scope="module")
def browser_tenant(django_db_setup, django_db_blocker):
    """A committed tenant for the module (the server sees committed rows only), with a few
    certificates so that pages and screenshots show something; deleted after."""
    with django_db_blocker.unblock():
        tenant = _tenant_made("pb")
        with tenant_context(tenant):
            for name, days in (("www.example.com", 70.5), ("api.example.com", 12.5), ("old.example.com", 4.5)):
                harness.certificate_ending_in(name, days)
            certificate_make("broken.example.com", versions=0, status=CertificateStatus.FAILED)
    yield tenant
    with django_db_blocker.unblock():
        tenant_delete(slug=tenant.schema_name)


@pytest.fixture
def own_tenant(live_db):
    """``own_tenant()``: a committed tenant for this test alone (for counts no other test may change)."""
    made = []

    def make():
        made.append(_tenant_made("pt"))
        return made[-1]

    yield make
    for tenant in made:
        tenant_delete(slug=tenant.schema_name)


@pytest.fixture
def portal(chromium, portal_server, browser_tenant, live_db) -> Iterator[harness.Portal]:
    """The module tenant's portal; ``portal.on(tenant)`` gives another tenant's. Every page opened
    through them must have requested nothing from another host, checked again at the end."""
    opened = []

    def on(tenant) -> harness.Portal:
        opened.append(harness.Portal(chromium, portal_server, tenant))
        return opened[-1]

    main = on(browser_tenant)
    main.on = on
    yield main
    for each in opened:
        each.close()
    for each in opened:
        assert each.off_host() == [], f"requests that left {each.host}: {each.off_host()}"
