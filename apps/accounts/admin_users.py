"""Users in both admins.

A tenant's users are added, changed, given a password and deleted through services.users, like every
other face: a refusal (the tenant's last admin, an admin's own access) is a form error and changes
nothing. Platform operators (the public schema) keep Django's own saving: the public schema has no audit
log, and every operator is a superuser anyway.
"""

from __future__ import annotations

import copy

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.services.users import user_apply_role, user_create, user_delete, user_set_password, user_update
from apps.accounts.sites import tenant_admin_site
from certmate.actors import Actor
from certmate.admin_services import ServiceAdmin, ServiceForm, admin_actor

PROFILE_FIELDS = ("email", "full_name", "role", "is_active")
PASSWORD_FIELDS = ("usable_password", "password1", "password2")


class UserAddForm(ServiceForm, AdminUserCreationForm):
    """Django's form (password twice, or no password: the user then signs in by single sign-on only)
    saved by ``user_create``."""

    class Meta:
        model = User
        fields = ("email", "full_name", "role")

    def apply(self, actor: Actor) -> User:
        password = self.cleaned_data["password1"] if self.cleaned_data.get("set_usable_password") else None
        return user_create(
            email=self.cleaned_data["email"],
            full_name=self.cleaned_data.get("full_name", ""),
            role=self.cleaned_data["role"],
            password=password,
            actor=actor,
        )


class UserProfileForm(ServiceForm, UserChangeForm):
    class Meta:
        model = User
        fields = PROFILE_FIELDS

    def apply(self, actor: Actor) -> User:
        given = {field: self.cleaned_data[field] for field in PROFILE_FIELDS if field in self.cleaned_data}
        return user_update(user=self.instance, actor=actor, **given)


class UserPasswordForm(AdminPasswordChangeForm):
    """Django's password form for an admin, saved by ``user_set_password`` while it is validated."""

    actor: Actor | None = None  # set per request by UserAdmin.user_change_password

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        password = cleaned["password1"] if cleaned.get("set_usable_password") else None
        try:
            with transaction.atomic():
                self.user = user_set_password(user=self.user, password=password, actor=self.actor)
        except ValidationError as exc:
            # The page shows the password fields' errors only.
            self.add_error("password2", exc.messages)
        return cleaned

    def save(self, commit=True):
        return self.user  # saved already, by the service


def _delete_user(*, obj: User, actor: Actor) -> None:
    user_delete(user=obj, actor=actor)


class UserListAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    readonly_fields = ("last_login", "date_joined")


class UserAdmin(ServiceAdmin, UserListAdmin):
    """A tenant's users, in its admin."""

    form = UserProfileForm
    add_form = UserAddForm
    change_password_form = UserPasswordForm
    delete_service = staticmethod(_delete_user)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "role", *PASSWORD_FIELDS)}),)

    def user_change_password(self, request, id, form_url=""):
        # Django's view builds ``self.change_password_form(user, data)``: a copy of this admin, for this
        # request only, hands that form the request's actor.
        view = copy.copy(self)
        view.change_password_form = type(
            "UserPasswordForm", (self.change_password_form,), {"actor": admin_actor(request)}
        )
        return super(UserAdmin, view).user_change_password(request, id, form_url)


class PlatformUserAdmin(UserListAdmin):
    """Platform operators: every one of them is a superuser of the public schema."""

    list_display = ("email", "full_name", "is_active", "last_login")
    list_filter = ("is_active",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_model(self, request, obj, form, change):
        obj.role = Role.ADMIN
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            user_apply_role(user=obj)


admin.site.register(User, PlatformUserAdmin)
tenant_admin_site.register(User, UserAdmin)
