"""The portal's sign-in and password forms: Django's own, with certmate's rules. Passwords are saved by
``user_set_password`` (audited, validated the same way everywhere) while the form is validated, so a
refusal is a form error and nothing is half-done."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.selectors import sso_settings_active
from apps.accounts.services.users import MAX_PASSWORD_LENGTH, user_set_password
from certmate.actors import Actor


def sso_only_message(config) -> str:
    return f"Password sign-in is off for this tenant: use “Sign in with {config.name}”."


class PortalLoginForm(AuthenticationForm):
    """E-mail and password. The sign-in lockout (django-axes) counts every failure through
    ``authenticate``; a tenant that signs in by single sign-on only refuses passwords here too."""

    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "E-mail address"
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "inputmode": "email"})

    def clean_username(self):
        # Stored in lower case (UserManager.create_user): "Bob@Example.com" is the same account.
        return self.cleaned_data["username"].strip().lower()

    def clean(self):
        config = sso_settings_active()
        if config is not None and config.sso_only:
            raise ValidationError(sso_only_message(config), code="sso_only")
        return super().clean()


class ServicePasswordMixin:
    """Sets ``new_password1`` through ``user_set_password`` once Django's checks pass."""

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.user = user_set_password(user=self.user, password=cleaned["new_password1"], actor=self.actor)
        except ValidationError as exc:
            self.add_error("new_password2", exc.messages)
        return cleaned

    def save(self, commit=True):
        return self.user  # saved already, by the service


class PortalPasswordChangeForm(ServicePasswordMixin, PasswordChangeForm):
    pass


class PortalSetPasswordForm(ServicePasswordMixin, SetPasswordForm):
    pass


class PortalPasswordResetForm(PasswordResetForm):
    """Django's: a mail only to an active user with a password, and the same answer for any address."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "E-mail address"
