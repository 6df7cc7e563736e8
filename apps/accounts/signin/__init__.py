"""Sign-in protection shared by every sign-in form: the tenant's admin, the platform admin, the portal
and OpenID Connect sign-in.

django-axes does the counting (its tables are in every schema, so lockouts stay in the tenant, or the
public schema, where they happen); this package holds certmate's rules:

- ``rules``: the limits (per username and address, per address, optionally per username), the client
  address (X-Forwarded-For trusted only from ``CERTMATE_API_NUM_PROXIES`` proxies, as for the API's
  throttles) and the username as counted (trimmed, lower case, bounded);
- ``handler``: axes' database handler applying every limit instead of axes' single one;
- ``responses``: the "too many attempts" page (429).

A sign-in through ``django.contrib.auth.authenticate(request, username=…, password=…)`` is covered as is
(axes' backend refuses while locked, the failure signal counts). A sign-in that does not go through a
password (OpenID Connect) asks ``signin_allowed`` first, answers ``signin_refused`` when it is not, and
reports a refused identity with ``signin_failed``.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse

from apps.accounts.signin.responses import lockout_response


def signin_allowed(request: HttpRequest, *, username: str | None) -> bool:
    """Whether this address (and username, when known) may try to sign in now."""
    return AxesProxyHandler.is_allowed(request, {"username": username})


def signin_failed(request: HttpRequest, *, username: str | None) -> None:
    """Count a failed sign-in that did not go through a password backend."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def signin_refused(request: HttpRequest, *, username: str | None) -> HttpResponse:
    """The "too many attempts" answer for this request."""
    return lockout_response(request, None, {"username": username})
