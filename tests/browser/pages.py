"""The portal pages the browser tests walk: add a page here when it is built and the walk checks it
(every role that may open it, light and dark, axe, same host, screenshots). Pages whose URL name is
not registered yet are left out of the walk (see ``built``); a test that needs one skips (``require``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import NoReverseMatch, reverse

TENANT_URLCONF = "certmate.urls_tenant"


@dataclass(frozen=True)
class PortalPage:
    name: str  # the screenshot's name
    url_name: str
    role: str | None = "viewer"  # the least role that opens it; None: the sign-in pages (anonymous)
    query: str = ""
    personal: bool = False  # the user's own account (a viewer changes their own password too)

    @property
    def path(self) -> str | None:
        return path_of(self.url_name, query=self.query)


# Pages that take no argument. The certificate detail needs a certificate: see test_certificate_flows.
PAGES = (
    PortalPage("sign-in", "portal:login", role=None),
    PortalPage("password-reset", "portal:password-reset", role=None),
    PortalPage("dashboard", "portal:dashboard"),
    PortalPage("jobs", "portal:jobs"),
    PortalPage("help", "portal:help"),
    PortalPage("password-change", "portal:password-change", personal=True),
    PortalPage("certificates", "portal:certificates"),
    PortalPage("certificates-expiring", "portal:certificates", query="expiring=30"),
    PortalPage("request", "portal:request", role="operator"),
    PortalPage("accounts", "portal:accounts"),
    PortalPage("ca-account-add", "portal:ca-account-add", role="admin"),
    PortalPage("dns-account-add", "portal:dns-account-add", role="admin"),
    PortalPage("cas", "portal:cas"),
    PortalPage("ca-add", "portal:ca-add", role="admin"),
    PortalPage("storage", "portal:storage", role="admin"),
    PortalPage("notifications", "portal:notifications"),
    PortalPage("notification-deliveries", "portal:notification-deliveries"),
    PortalPage("notification-add", "portal:notification-add", role="admin"),
    PortalPage("settings", "portal:settings"),
    PortalPage("tokens", "portal:tokens", role="admin"),
    PortalPage("users", "portal:users", role="admin"),
    PortalPage("user-add", "portal:user-add", role="admin"),
    PortalPage("audit", "portal:audit", role="operator"),
)
# The foundation on main: the walk must always find these (a renamed URL fails instead of vanishing).
FOUNDATION = ("portal:login", "portal:password-reset", "portal:dashboard", "portal:jobs", "portal:help")


def path_of(url_name: str, *args, query: str = "") -> str | None:
    """The page's path on a tenant host, or None while no page has that name."""
    try:
        path = reverse(url_name, args=args or None, urlconf=TENANT_URLCONF)
    except NoReverseMatch:
        return None
    return f"{path}?{query}" if query else path


def require(url_name: str, *args) -> str:
    """The page's path; skips the test while the page is not built (branches portal-certs/accounts)."""
    path = path_of(url_name, *args)
    if path is None:
        pytest.skip(f"the portal has no page named {url_name!r} yet")
    return path


def built() -> list[PortalPage]:
    return [page for page in PAGES if page.path is not None]
