"""Sign-in through the tenant's identity provider: /sso/login/ sends the browser there, /sso/callback/
takes it back. State, nonce and PKCE verifier live in the session (mozilla-django-oidc's views)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from apps.accounts.selectors import sso_settings_active
from apps.accounts.services.sso import SsoRefused
from apps.accounts.signin import signin_allowed, signin_failed, signin_refused
from apps.accounts.sso.backends import CALLBACK_URL_NAME
from apps.accounts.sso.provider import provider_metadata

logger = logging.getLogger(__name__)
LOGIN_URL_NAME = "tenant_admin:login"
AFTER_LOGIN_URL_NAME = "tenant_admin:index"
NOT_STARTED = "this sign-in was not started here, or was already used: start again"


def sso_refused(request, message: str, *, email: str = "", counts: bool = True) -> HttpResponseRedirect:
    """Back to the sign-in page with the reason. A failed sign-in counts toward the sign-in lockout; a
    provider that cannot be reached before anyone signed in does not."""
    logger.info("single sign-on refused: %s", message)
    if counts:
        signin_failed(request, username=email or None)
    messages.error(request, f"Single sign-on refused: {message}")
    return HttpResponseRedirect(reverse(LOGIN_URL_NAME))


class PerTenantProviderMixin:
    """The views with the tenant's provider: the library's settings fixed here, never read from Django's."""

    VIEW_SETTINGS: dict[str, Any] = {
        "OIDC_AUTHENTICATION_CALLBACK_URL": CALLBACK_URL_NAME,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_REDIRECT_FIELD_NAME": "next",
        "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {},
    }

    def get_settings(self, attr: str, *args: Any) -> Any:
        if attr == "OIDC_RP_SCOPES":
            return self.config.scopes
        if attr in ("LOGIN_REDIRECT_URL", "LOGIN_REDIRECT_URL_FAILURE"):
            return reverse(AFTER_LOGIN_URL_NAME if attr == "LOGIN_REDIRECT_URL" else LOGIN_URL_NAME)
        if attr in self.VIEW_SETTINGS:
            return self.VIEW_SETTINGS[attr]
        if args:
            return args[0]
        raise AttributeError(attr)

    def dispatch(self, request, *args, **kwargs):
        self.config = sso_settings_active()
        if self.config is None:
            raise Http404("single sign-on is not configured for this tenant")
        # A locked-out address does not get to try through the provider either (the username is not
        # known before the provider answers: the per-address rule decides here, the rest at authenticate).
        if not signin_allowed(request, username=None):
            return signin_refused(request, username=None)
        return super().dispatch(request, *args, **kwargs)


class SsoLoginView(PerTenantProviderMixin, OIDCAuthenticationRequestView):
    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the library would read its endpoint from Django settings here

    def get(self, request):
        try:
            metadata = provider_metadata(self.config)
        except SsoRefused as exc:
            return sso_refused(request, str(exc), counts=False)
        self.OIDC_OP_AUTH_ENDPOINT = metadata.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = self.config.client_id
        return super().get(request)


class SsoCallbackView(PerTenantProviderMixin, OIDCAuthenticationCallbackView):
    def get(self, request):
        # A state this session never sent, or sent and already used: no sign-in of this browser's. Any page
        # can make a browser fetch this URL; it neither counts toward the lockout (a page would lock its
        # visitors' address out of the tenant) nor reaches the library (which signs the browser out).
        if request.GET.get("state") not in request.session.get("oidc_states", {}):
            return sso_refused(request, NOT_STARTED, counts=False)
        try:
            return super().get(request)
        except SsoRefused as exc:
            return sso_refused(request, str(exc), email=exc.email)
        except SuspiciousOperation:  # the library's own state check (another tab used it meanwhile)
            return sso_refused(request, NOT_STARTED)

    def login_failure(self):
        if self.request.GET.get("error"):
            return sso_refused(self.request, "the identity provider did not sign you in")
        return sso_refused(self.request, "the sign-in could not be completed: start again")
