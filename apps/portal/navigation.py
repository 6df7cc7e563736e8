"""The portal's navigation: one entry per area, each shown to the roles that may read it.

An entry names its portal page (``portal:<key>``). Until that page exists, the entry leads to the
tenant admin's page for the same thing (``admin_url_name``), shown only to the roles that admin page
lets in, and marked as the admin's. Adding the portal page (its URL name in apps/portal/urls.py) is
enough to switch the entry over.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from apps.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    key: str  # the page's URL name is portal:<key>; a view's ``nav`` names the entry it belongs to
    label: str
    role: Role = Role.VIEWER  # who sees the portal page (as the API: viewer reads, operator writes...)
    admin_url_name: str = ""  # the admin's page, until the portal's exists
    admin_role: Role = Role.VIEWER  # who the admin's page lets in (viewers and operators lack some models)
    hint: str = ""  # said to screen readers and in the title

    @property
    def url_name(self) -> str:
        return f"portal:{self.key}"


VIEWER, OPERATOR, ADMIN = Role.VIEWER, Role.OPERATOR, Role.ADMIN
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("dashboard", "Dashboard"),
    NavItem("certificates", "Certificates", VIEWER, "certificates_certificate_changelist"),
    NavItem("request", "Request", OPERATOR, "certificates_certificate_add", OPERATOR),
    NavItem("accounts", "Accounts", VIEWER, "certificates_caaccount_changelist", ADMIN, hint="CA and DNS accounts"),
    NavItem("cas", "Private CAs", VIEWER, "certificates_certificateauthority_changelist", ADMIN),
    NavItem("storage", "Storage", ADMIN, "storage_storageconfig_changelist", ADMIN),
    NavItem("notifications", "Notifications", VIEWER, "notifications_notificationchannel_changelist"),
    NavItem("settings", "Settings", VIEWER, "certificates_tenantsettings_changelist", ADMIN),
    NavItem("tokens", "API tokens", ADMIN, "accounts_apitoken_changelist", ADMIN),
    NavItem("users", "Users", ADMIN, "accounts_user_changelist", ADMIN),
    NavItem("audit", "Audit log", OPERATOR, "audit_auditevent_changelist", OPERATOR),
    NavItem("help", "Help"),
)


@dataclass(frozen=True)
class NavLink:
    key: str
    label: str
    url: str
    current: bool
    in_admin: bool
    hint: str


def page_url(name: str, *args, **kwargs) -> str | None:
    """The URL of a portal page, or None while it does not exist (a link to it is then left out)."""
    try:
        return reverse(name, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def nav_links(user, current: str = "") -> list[NavLink]:
    """The entries ``user`` may follow, with the one named ``current`` marked."""
    links = []
    for item in NAVIGATION:
        url, in_admin, needed = page_url(item.url_name), False, item.role
        if url is None and item.admin_url_name:
            url, in_admin = page_url(f"tenant_admin:{item.admin_url_name}"), True
            needed = max(item.role, item.admin_role, key=lambda role: role.rank)
        if url is None or not user.has_role(needed):
            continue
        links.append(NavLink(item.key, item.label, url, item.key == current, in_admin, item.hint))
    return links
