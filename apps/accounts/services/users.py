"""Users of the current schema (a tenant's users, or platform operators in public)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.validators import validate_contact_email


def user_apply_role(*, user: User) -> None:
    """Make the user's flags and group match its role."""
    user.is_staff = True
    user.is_superuser = user.role == Role.ADMIN
    user.save(update_fields=["is_staff", "is_superuser"])
    user.groups.set(Group.objects.filter(name=user.role))


def user_email_clean(email: str | None) -> str:
    """The e-mail address as stored (trimmed, lowercase), or a ValidationError saying why not."""
    email = (email or "").strip().lower()
    try:
        validate_contact_email(email)
    except ValidationError as exc:
        raise ValidationError(
            f"{email!r} is not a valid e-mail address: {exc.messages[0]}", code="invalid_email"
        ) from None
    return email


@transaction.atomic
def user_create(*, email: str, password: str, role: Role | str = Role.VIEWER, full_name: str = "") -> User:
    email = user_email_clean(email)
    if role not in Role.values:
        raise ValidationError(f"role {role!r} is unknown: use one of {', '.join(Role.values)}", code="invalid_role")
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(f"a user with e-mail {email} already exists", code="user_exists")
    candidate = User(email=email, full_name=full_name, role=role)
    validate_password(password, user=candidate)
    user = User.objects.create_user(email, password, full_name=full_name, role=role)
    user_apply_role(user=user)
    return user


@transaction.atomic
def user_sign_in_provision(*, email: str, role: Role | str, full_name: str = "") -> User:
    """A user signing in through the tenant's identity provider: created on first sign-in (without a
    password), and its role and name brought in step with the provider's claims on every sign-in."""
    email = user_email_clean(email)
    if role not in Role.values:
        raise ValidationError(f"role {role!r} is unknown: use one of {', '.join(Role.values)}", code="invalid_role")
    full_name = full_name[: User._meta.get_field("full_name").max_length]
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, full_name=full_name, role=role)
        user.set_unusable_password()
        user.save()
    elif not user.is_active:
        raise ValidationError(f"the certmate account {email} is disabled", code="user_inactive")
    else:
        user.role = role
        user.full_name = full_name or user.full_name
        user.save(update_fields=["role", "full_name"])
    user_apply_role(user=user)
    return user
