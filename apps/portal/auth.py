"""Signing in and out, changing a password, and resetting a forgotten one by e-mail: Django's views
with the portal's templates and forms (apps/portal/forms.py). The tenant's host picks the users: each
tenant's users, sessions and sign-in lockouts live in its own schema."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy

from apps.accounts.models import Role
from apps.accounts.selectors import sso_settings_active
from apps.portal import forms
from apps.portal.base import PortalMixin, layout_context, portal_actor
from certmate.actors import client_address

RESET_WINDOW_SECONDS = 3600


class LayoutMixin:
    """The layout's context for the pages around signing in (no role needed)."""

    title = ""

    def get_context_data(self, **kwargs):
        return {**layout_context(self.request, title=self.title), **super().get_context_data(**kwargs)}


def _sso_context() -> dict:
    config = sso_settings_active()
    return {"sso": config, "sso_only": bool(config and config.sso_only)}


class LoginView(LayoutMixin, auth_views.LoginView):
    title = "Sign in"
    template_name = "portal/login.html"
    form_class = forms.PortalLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("portal:dashboard")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_sso_context()}


class LogoutView(auth_views.LogoutView):
    """POST only (Django's): a link or an image elsewhere cannot sign anyone out."""

    next_page = reverse_lazy("portal:login")

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


class PasswordChangeView(PortalMixin, auth_views.PasswordChangeView):
    title = "Change password"
    nav = "password"
    template_name = "portal/password_change.html"
    form_class = forms.PortalPasswordChangeForm
    write_role = Role.VIEWER  # everyone may change their own password

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.actor}

    def get_success_url(self):
        return reverse("portal:dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session signed in with the new password
        messages.success(self.request, "Your password was changed.")
        return response


def reset_allowed(request, email: str) -> bool:
    """At most CERTMATE_PASSWORD_RESETS_PER_HOUR mails per address asked for and per client address
    (the cache's keys carry the tenant). Asking counts even when no user has the address."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    allowed = True
    for key in (f"portal:reset:email:{digest}", f"portal:reset:client:{client_address(request)}"):
        cache.add(key, 0, RESET_WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            count = 1
            cache.set(key, count, RESET_WINDOW_SECONDS)
        allowed = allowed and count <= settings.CERTMATE_PASSWORD_RESETS_PER_HOUR
    return allowed


class PasswordResetView(LayoutMixin, auth_views.PasswordResetView):
    """The same answer whether or not the address is a user's, and whether or not a mail went out."""

    title = "Reset your password"
    template_name = "portal/password_reset.html"
    form_class = forms.PortalPasswordResetForm
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password-reset-done")

    def dispatch(self, request, *args, **kwargs):
        if _sso_context()["sso_only"]:
            messages.info(request, "This tenant signs in through single sign-on only: there is no password to reset.")
            return redirect("portal:login")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        if not reset_allowed(self.request, form.cleaned_data["email"]):
            return redirect(self.success_url)
        tenant = getattr(self.request, "tenant", None)
        self.extra_email_context = {"tenant_name": getattr(tenant, "name", "")}
        return super().form_valid(form)


class PasswordResetDoneView(LayoutMixin, auth_views.PasswordResetDoneView):
    title = "Check your e-mail"
    template_name = "portal/password_reset_done.html"


class PasswordResetConfirmView(LayoutMixin, auth_views.PasswordResetConfirmView):
    title = "Choose a new password"
    template_name = "portal/password_reset_confirm.html"
    form_class = forms.PortalSetPasswordForm
    success_url = reverse_lazy("portal:password-reset-complete")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": portal_actor(self.request, user=self.user)}


class PasswordResetCompleteView(LayoutMixin, auth_views.PasswordResetCompleteView):
    title = "Password changed"
    template_name = "portal/password_reset_complete.html"
