"""The groups behind the three tenant roles, kept in step with the installed models.

Roles are what the API and portal check (``User.has_role``); the groups give the same users the
matching permissions in the tenant's Django admin.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from apps.accounts.models import Role

# App labels whose models tenant users work with, and which actions each role gets on them.
VIEW_APPS = ("certificates", "storage", "notifications")
OPERATE_APPS = ("certificates",)
ADMIN_APPS = ("accounts", "auth", "storage", "notifications")
# Read-only for operators and admins (its admin page and /api/audit alike); no role may change it.
AUDIT_APPS = ("audit",)
# What only admins see and change in the admin, whatever its app: the accounts and defaults issuing uses,
# and the tenant's private CAs and their profiles.
ADMIN_ONLY_MODELS = Q(
    content_type__app_label="certificates",
    content_type__model__in=("caaccount", "dnsaccount", "tenantsettings", "certificateauthority", "certificateprofile"),
)


def role_permissions(role: Role):
    perms = Permission.objects.filter(content_type__app_label__in=VIEW_APPS, codename__startswith="view_")
    if role in (Role.OPERATOR, Role.ADMIN):
        perms = perms | Permission.objects.filter(content_type__app_label__in=OPERATE_APPS)
        perms = perms | Permission.objects.filter(content_type__app_label__in=AUDIT_APPS, codename__startswith="view_")
    if role != Role.ADMIN:
        return perms.exclude(ADMIN_ONLY_MODELS)
    perms = perms | Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
    return perms.exclude(content_type__model__in=("tenant", "domain"))


def roles_sync() -> None:
    """Create the role groups in the current schema and give each its permissions (idempotent)."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(role_permissions(role))
