"""Request rates per token (or session user) and per address for anonymous clients.

Rates come from settings at request time, not from DRF's THROTTLE_RATES (read once at import), so
deployments set them in the environment and tests can lower them. The cache key function adds the
tenant's schema, and token and user ids are per schema anyway.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apps.accounts.models import ApiToken


class _SettingsRateThrottle(SimpleRateThrottle):
    setting_name = ""

    def get_rate(self):
        return getattr(settings, self.setting_name)


class TokenRateThrottle(_SettingsRateThrottle):
    """One budget per token (so one busy script does not starve a user's other tokens), else per user."""

    scope = "user"
    setting_name = "CERTMATE_API_RATE_USER"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(_SettingsRateThrottle):
    scope = "anon"
    setting_name = "CERTMATE_API_RATE_ANON"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


THROTTLE_CLASSES = [TokenRateThrottle, AnonRateThrottle]
