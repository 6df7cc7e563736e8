"""Users and roles (admins, as /api/users): the list, a new user, a user's name, role and active flag,
and deleting, through services.users via the admin's forms. The services' refusals — the tenant's last
admin (last_admin), an admin's own access (own_account) — show at the field or as a message."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.accounts.admin_users import UserAddForm, UserProfileForm
from apps.accounts.models import Role, User
from apps.accounts.services.users import user_delete
from apps.portal.base import PortalView
from apps.portal.editing import DeletePage, ServiceFormPage, found

BACK = "portal:users"
REFUSALS = ("last_admin", "own_account")  # the services' codes for taking away needed admin access


class UsersView(PortalView):
    title = "Users"
    nav = "users"
    template_name = "portal/admin/users.html"
    read_role = write_role = Role.ADMIN

    def get_context_data(self, **kwargs):
        return super().get_context_data(users=User.objects.order_by("email", "pk"), **kwargs)


class PortalUserForm(UserProfileForm):
    """The admin's profile form without its password link (a password is the user's own, or reset by mail)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("password", None)

    def apply(self, actor):
        try:
            return super().apply(actor)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") or exc.code not in REFUSALS:
                raise
            # Said at what took the admin access away: the active box, or else the role.
            field = "is_active" if self.cleaned_data.get("is_active") is False else "role"
            raise ValidationError({field: exc}) from None


class UserAddView(ServiceFormPage):
    title = "Add a user"
    nav = "users"
    form_class = UserAddForm
    code_fields = {"user_exists": "email"}
    back_url_name = BACK
    submit_label = "Add the user"
    done_message = "Added {object.email} ({object.role})."


class UserChangeView(ServiceFormPage):
    nav = "users"
    form_class = PortalUserForm
    code_fields = {"user_exists": "email"}
    back_url_name = BACK
    delete_url_name = "portal:user-delete"
    done_message = "Saved {object.email} ({object.role})."

    def get_instance(self):
        return found(User.objects.all(), self.kwargs["pk"], "user")

    @property
    def title(self):
        return f"User {self.instance.email}"


class UserDeleteView(DeletePage):
    title = "Delete a user"
    nav = "users"
    what = "user"
    back_url_name = BACK
    consequence = "Their API tokens go with them. The tenant's last admin and your own account cannot be deleted."

    def get_object(self):
        return found(User.objects.all(), self.kwargs["pk"], "user")

    def delete(self, obj):
        user_delete(user=obj, actor=self.actor)
