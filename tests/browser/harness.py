"""The browser side of the portal tests: Debian's Chromium driven by Playwright, pages signed in as
a user of a role, and what every visit checks (nothing requested from another host, no console
error or refused script, no serious or critical axe-core finding), plus screenshots.

Playwright's own browser download is never used: Chromium is the system's (``CERTMATE_CHROMIUM``,
default /usr/bin/chromium). axe-core is the copy bundled inside axe-playwright-python.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.services.users import user_create
from certmate.actors import Actor
from tests.conftest import PASSWORD
from tests.factories import certificate_make, version_add

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CERTMATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI and sessions run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Tenant hosts (<slug>.localhost, alpha.test) reach the test server; anything else would too, and
    # the visit's request check names it: nothing leaves the machine.
    "--host-resolver-rules=MAP * 127.0.0.1",
]
# The folder the README names: CI keeps it as an artefact.
SCREENSHOTS = Path(os.environ.get("CERTMATE_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
TIMEOUT_MS = 15_000
BLOCKING_IMPACTS = ("serious", "critical")
# A write control: a form that changes something (signing out is not one), an htmx write, a link to a
# write page. A viewer's pages show none.
WRITE_CONTROLS = (
    "form[method=post i]:not([action='/logout/']), [hx-post], [hx-put], [hx-patch], [hx-delete],"
    " button[formmethod=post i], a[href$='/request/'], a[href*='/add/'], a[href$='/delete/'], a[href$='/revoke/']"
)
_serial = itertools.count(1)


def missing_reason() -> str | None:
    """Why browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CERTMATE_CHROMIUM)"
    for module, package in (("playwright", "playwright"), ("axe_playwright_python", "axe-playwright-python")):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {package} is not installed (requirements/dev.txt)"
    return None


def certificate_ending_in(identifier: str, days: float, **fields):
    """A served certificate whose current version ends ``days`` from now (call in the tenant)."""
    certificate = certificate_make(identifier, versions=0, **fields)
    version_add(certificate, not_before=timezone.now() - timedelta(days=100), days=100 + days)
    return certificate


def host_of(tenant) -> str:
    return tenant.get_primary_domain().domain


class Portal:
    """One tenant's portal in the browser, for one test: ``page()`` opens a new browser context (its
    own cookies and storage) signed in as ``user``; ``visit()`` opens a path and checks it."""

    def __init__(self, browser, server, tenant):
        self.browser, self.server, self.tenant = browser, server, tenant
        self.host = host_of(tenant)
        self.requested: list[str] = []
        self.problems: list[str] = []
        self._contexts = []

    def url(self, path: str = "/") -> str:
        return self.server.url_for(self.host, path)

    def user(self, role: str = "admin", *, email: str | None = None):
        """A new committed user of ``role`` in this tenant (password: tests.conftest.PASSWORD)."""
        with tenant_context(self.tenant):
            email = email or f"{role}-{next(_serial)}-{os.getpid()}@{self.host}"
            return user_create(email=email, password=PASSWORD, role=role, actor=Actor.command())

    def session_cookie(self, user) -> dict:
        """A session of ``user`` on this host, as the sign-in page would have set it."""
        client = Client(HTTP_HOST=self.host)
        with tenant_context(self.tenant):  # sessions live in the tenant's schema
            client.force_login(user, backend="apps.accounts.sso.backends.PasswordBackend")
        value = client.cookies[settings.SESSION_COOKIE_NAME].value
        return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": self.url("/")}

    def page(self, user=None, *, color_scheme: str = "light", width: int = 1280, height: int = 900):
        """A page in a fresh context; ``user``: a User or a role name (a new user of it), None: anonymous."""
        context = self.browser.new_context(
            color_scheme=color_scheme, viewport={"width": width, "height": height}, service_workers="block"
        )
        self._contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        if isinstance(user, str):
            user = self.user(user)
        if user is not None:
            context.add_cookies([self.session_cookie(user)])
        page = context.new_page()
        page.on("request", lambda request: self.requested.append(request.url))
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.problems.append(f"uncaught error: {error}"))
        return page

    def _console(self, message) -> None:
        if message.type == "error":  # a refused script or style (the CSP) is reported here too
            self.problems.append(f"console error: {message.text}")

    def visit(self, page, path: str, *, status: int = 200, axe: bool = True):
        """Open ``path``, expect ``status``, and check the page (see ``check``)."""
        response = page.goto(self.url(path), wait_until="load")
        assert response is not None and response.status == status, f"GET {path}: {response and response.status}"
        self.check(page, axe=axe)
        return response

    def check(self, page, *, axe: bool = True) -> None:
        assert self.off_host() == [], f"requests that left {self.host}: {self.off_host()}"
        assert self.problems == [], "\n".join(self.problems)
        if axe:
            self.assert_accessible(page)

    def off_host(self) -> list[str]:
        """Every URL the pages requested that is not on this tenant's host (and this server)."""
        off = []
        for url in self.requested:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue  # nothing fetched from anywhere
            if (parts.scheme, parts.hostname, parts.port) != ("http", self.host, self.server.port):
                off.append(url)
        return off

    def assert_accessible(self, page) -> None:
        from axe_playwright_python.sync_playwright import Axe

        violations = Axe().run(page).response["violations"]
        blocking = [finding for finding in violations if finding["impact"] in BLOCKING_IMPACTS]
        assert blocking == [], f"axe-core on {page.url}:\n" + "\n".join(_finding(finding) for finding in blocking)

    def write_controls(self, page) -> list[str]:
        """The write controls on the page, as HTML (cut short)."""
        found = page.locator(WRITE_CONTROLS)
        return [found.nth(n).evaluate("e => e.outerHTML.slice(0, 300)") for n in range(found.count())]

    def theme(self, page) -> str:
        """The theme the page shows: the user's choice, else the system's."""
        return page.evaluate(
            "() => document.documentElement.dataset.theme"
            " || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')"
        )

    def screenshot(self, page, name: str) -> Path:
        """``<SCREENSHOTS>/<name>-<light|dark>.png``, the whole page."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{self.theme(page)}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    def close(self) -> None:
        for context in self._contexts:
            context.close()
        self._contexts.clear()


def _finding(finding: dict) -> str:
    targets = [", ".join(node["target"]) for node in finding["nodes"][:5]]
    return f"- {finding['impact']} {finding['id']}: {finding['help']} ({finding['helpUrl']}) at {targets}"
