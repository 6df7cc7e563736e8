"""Users of the current schema (a tenant's users, or platform operators in public).

Every write takes the acting party and records one audit event in its transaction (see
``audit_tenant``: in the public schema there is no audit log). Actions: ``user.created``,
``user.updated`` (any of e-mail, full name, role and active flag, each as ``[before, after]``; a role
change is a ``user.updated`` whose changes hold ``role``), ``user.password_changed`` (never the value)
and ``user.deleted``. A write that changes nothing records nothing.

An admin may not take away their own admin access (demote, deactivate or delete themself), and nobody
may take away the tenant's last active admin: both refusals answer 409 (``own_account``,
``last_admin``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from apps.accounts.models import Role, User
from apps.accounts.services.audit_tenant import audit_in_tenant
from apps.accounts.validators import validate_contact_email
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_snapshot

AUDITED_FIELDS = ("email", "full_name", "role", "is_active")
MAX_EMAIL_LENGTH = User._meta.get_field("email").max_length
MAX_FULL_NAME_LENGTH = User._meta.get_field("full_name").max_length
# Far beyond any passphrase; bounds the work of hashing what a client sends.
MAX_PASSWORD_LENGTH = 256
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_USERS_LOCK = 0x5553  # "US": changes to who the tenant's admins are, one at a time per schema

logger = logging.getLogger(__name__)


def user_apply_role(*, user: User) -> None:
    """Make the user's flags and group match its role."""
    user.is_staff = True
    user.is_superuser = user.role == Role.ADMIN
    user.save(update_fields=["is_staff", "is_superuser"])
    user.groups.set(Group.objects.filter(name=user.role))


def user_email_clean(email: str | None) -> str:
    """The e-mail address as stored (trimmed, lowercase), or a ValidationError saying why not."""
    email = email.strip().lower() if isinstance(email, str) else ""
    try:
        if len(email) > MAX_EMAIL_LENGTH:
            raise ValidationError(f"it is longer than {MAX_EMAIL_LENGTH} characters")
        validate_contact_email(email)
    except ValidationError as exc:
        raise ValidationError(
            f"{email[:MAX_EMAIL_LENGTH]!r} is not a valid e-mail address: {exc.messages[0]}", code="invalid_email"
        ) from None
    return email


def role_clean(role: Role | str) -> Role:
    """The role named, or a ValidationError listing the roles."""
    if not isinstance(role, str) or role not in Role.values:
        raise ValidationError(f"role {role!r} is unknown: use one of {', '.join(Role.values)}", code="invalid_role")
    return Role(role)


def _full_name_clean(full_name: str) -> str:
    if not isinstance(full_name, str):
        raise ValidationError({"full_name": ValidationError("must be text", code="invalid")})
    full_name = full_name.strip()
    if len(full_name) > MAX_FULL_NAME_LENGTH or CONTROL.search(full_name):
        raise ValidationError(
            {
                "full_name": ValidationError(
                    f"must be at most {MAX_FULL_NAME_LENGTH} characters, without control characters", code="invalid"
                )
            }
        )
    return full_name


def _password_check(password: str, *, user: User) -> None:
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(
            {"password": ValidationError(f"must be text of at most {MAX_PASSWORD_LENGTH} characters", code="invalid")}
        )
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from None


def _state(user: User) -> dict[str, Any]:
    return {**audit_snapshot(user, AUDITED_FIELDS), "has_password": user.has_usable_password()}


def _record(action: str, *, user: User, actor: Actor, changes: dict[str, Any], object_id: Any = None) -> None:
    audit_in_tenant(
        actor=actor,
        action=action,
        object_type="user",
        object_id=user.pk if object_id is None else object_id,
        object_name=user.email,
        changes=changes,
    )


def _lock_users() -> None:
    """Writes that may change who the admins are take turns (no two demote the last two admins at once)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_USERS_LOCK, connection.schema_name])


def _locked(user: User) -> User:
    _lock_users()
    current = User.objects.select_for_update().filter(pk=user.pk).first()
    if current is None:
        raise ValidationError(f"user {user.email} no longer exists", code="not_found")
    return current


def _is_active_admin(user: User) -> bool:
    return user.is_active and user.role == Role.ADMIN


def _other_active_admins(user: User):
    return User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk)


def _refuse_admin_removal(*, user: User, actor: Actor, what: str) -> None:
    """``user``, an active admin as stored, is about to stop being one (``what`` says how)."""
    if not _other_active_admins(user).exists():
        raise ValidationError(
            f"{user.email} is this tenant's last active admin and cannot be {what}: make another user admin first",
            code="last_admin",
        )
    if actor.user_id == user.pk:
        raise ValidationError(f"you cannot have your own account {what}: another admin must do it", code="own_account")


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None = None,
    role: Role | str = Role.VIEWER,
    full_name: str = "",
    actor: Actor,
) -> User:
    """A new user. Without a password it signs in only through the tenant's single sign-on, or once a
    password is set (``user_set_password``)."""
    email = user_email_clean(email)
    role = role_clean(role)
    full_name = _full_name_clean(full_name)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(f"a user with e-mail {email} already exists", code="user_exists")
    if password:
        _password_check(password, user=User(email=email, full_name=full_name, role=role))
    user = User.objects.create_user(email, password or None, full_name=full_name, role=role)
    user_apply_role(user=user)
    _record("user.created", user=user, actor=actor, changes=audit_changes({}, _state(user)))
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    actor: Actor,
    email: str | None = None,
    role: Role | str | None = None,
    full_name: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change what is given (None: keep it). Refused when it would take away the tenant's last active
    admin, or the acting admin's own admin access."""
    current = _locked(user)
    before, was_admin = _state(current), _is_active_admin(current)
    if email is not None:
        email = user_email_clean(email)
        if email != current.email and User.objects.filter(email__iexact=email).exclude(pk=current.pk).exists():
            raise ValidationError(f"a user with e-mail {email} already exists", code="user_exists")
        current.email = email
    if role is not None:
        current.role = role_clean(role)
    if full_name is not None:
        current.full_name = _full_name_clean(full_name)
    if is_active is not None:
        if not isinstance(is_active, bool):
            raise ValidationError({"is_active": ValidationError("must be true or false", code="invalid")})
        current.is_active = is_active
    changes = audit_changes(before, _state(current))
    if not changes:
        return current
    if was_admin and not _is_active_admin(current):
        _refuse_admin_removal(user=current, actor=actor, what="demoted" if current.is_active else "deactivated")
    current.save(update_fields=[field for field in AUDITED_FIELDS if field in changes])
    user_apply_role(user=current)
    _record("user.updated", user=current, actor=actor, changes=changes)
    return current


@transaction.atomic
def user_set_password(*, user: User, password: str | None, actor: Actor) -> User:
    """Set the user's password; None removes it (the user then signs in only through single sign-on).
    The audit event says that it changed, never what it is."""
    current = _locked(user)
    had_password = current.has_usable_password()
    if password is None:
        if not had_password:
            return current
        current.set_unusable_password()
    else:
        _password_check(password, user=current)
        current.set_password(password)
    # The hash always differs (a new salt): recorded as "changed", with whether a password remains.
    changes = audit_changes(
        {"password": "", "has_password": had_password},
        {"password": current.password, "has_password": current.has_usable_password()},
        secret=("password",),
    )
    current.save(update_fields=["password"])
    _record("user.password_changed", user=current, actor=actor, changes=changes)
    return current


@transaction.atomic
def user_delete(*, user: User, actor: Actor) -> None:
    """Delete the user and its API tokens. Refused for the tenant's last active admin, and for an admin's
    own account."""
    current = _locked(user)
    if _is_active_admin(current):
        _refuse_admin_removal(user=current, actor=actor, what="deleted")
    before, user_id = _state(current), current.pk
    current.delete()
    _record("user.deleted", user=current, actor=actor, changes=audit_changes(before, {}), object_id=user_id)


@transaction.atomic
def user_sign_in_provision(*, email: str, role: Role | str, full_name: str = "", actor: Actor) -> User:
    """A user signing in through the tenant's identity provider: created on first sign-in (without a
    password), and its role and name brought in step with the provider's claims on every sign-in (the
    provider decides roles here, except that it never demotes the tenant's last active admin)."""
    email = user_email_clean(email)
    role = role_clean(role)
    full_name = CONTROL.sub("", full_name).strip()[:MAX_FULL_NAME_LENGTH]
    _lock_users()
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, full_name=full_name, role=role)
        user.set_unusable_password()
        user.save()
        user_apply_role(user=user)
        _record("user.created", user=user, actor=actor, changes=audit_changes({}, _state(user)))
        return user
    if not user.is_active:
        raise ValidationError(f"the certmate account {email} is disabled", code="user_inactive")
    before = _state(user)
    if _is_active_admin(user) and role != Role.ADMIN and not _other_active_admins(user).exists():
        # The provider's claims would leave the tenant without an admin (a changed claim mapping, say):
        # the user stays admin until another admin exists; only then does the provider's role apply.
        logger.warning("single sign-on kept %s admin: the tenant has no other active admin", user.email)
        role = Role.ADMIN
    user.role = role
    user.full_name = full_name or user.full_name
    changes = audit_changes(before, _state(user))
    if changes:
        user.save(update_fields=["role", "full_name"])
        user_apply_role(user=user)
        _record("user.updated", user=user, actor=actor, changes=changes)
    return user
