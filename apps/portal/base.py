"""What every portal page is built on: ``PortalMixin`` (sign-in, roles, the actor, the layout's
context) and the answers a page gives when it cannot serve (403, 404).

A page is a class-based view: ``PortalView`` for a template, or ``PortalMixin`` in front of any of
Django's generic views (``class CertificateList(PortalMixin, ListView)``). It declares:

- ``title`` (the page's heading and <title>), ``nav`` (the navigation entry it belongs to);
- ``read_role`` (GET/HEAD, default viewer) and ``write_role`` (other methods, default operator), or
  ``required_role(request)`` for anything else. Anonymous requests go to the sign-in page; a signed-in
  user below the role gets the 403 page, never a traceback in the log;
- ``partial_template_name``: rendered instead of ``template_name`` for htmx requests (a fragment).

It gets ``self.actor`` (the user, on the portal channel) to hand to services; a service's
``ValidationError`` becomes form errors with ``certmate.admin_services.form_errors_from(form, exc)``; a
selector's ``NotFound`` answers the portal's 404 page. Templates get ``can_write`` (the user may use
this page's write controls), ``is_admin``, ``role``, ``page_title``, ``nav_links``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from apps.accounts.models import Role
from apps.portal.navigation import nav_links
from certmate.actors import Actor, Channel, request_actor
from certmate.errors import NotFound

READ_METHODS = ("GET", "HEAD", "OPTIONS")
LOGIN_URL_NAME = "portal:login"


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it wants a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def portal_actor(request: HttpRequest, user: Any = None) -> Actor:
    """The actor of a portal request: its signed-in user, or ``user`` (a password reset's owner)."""
    actor = request_actor(request, Channel.PORTAL)
    if user is None:
        return actor
    return Actor.for_user(user, Channel.PORTAL, ip_address=actor.ip_address, user_agent=actor.user_agent)


def login_url(request: HttpRequest) -> str:
    """The sign-in page, coming back to the page the browser shows (htmx names it) or this one."""
    current = request.headers.get("HX-Current-URL", "")
    back = urlsplit(current).path if current else request.get_full_path()
    return f"{reverse(LOGIN_URL_NAME)}?{urlencode({'next': back or '/'})}"


def layout_context(request: HttpRequest, *, nav: str = "", title: str = "", write_role: Role = Role.OPERATOR) -> dict:
    """What base.html needs on any page, signed in or not."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "page_title": title,
        "nav": nav,
        "nav_links": nav_links(user, nav) if signed_in else [],
        "role": Role(user.role) if signed_in else None,
        "can_write": signed_in and user.has_role(write_role),
        "is_admin": signed_in and user.has_role(Role.ADMIN),
        "tenant": getattr(request, "tenant", None),
    }


def portal_page(request: HttpRequest, template: str, context: dict | None = None, *, status: int = 200, **layout):
    return TemplateResponse(request, template, {**layout_context(request, **layout), **(context or {})}, status=status)


def forbidden(request: HttpRequest, needed: Role) -> HttpResponse:
    """The 403 page: what role the page needs (no traceback logged: a refusal is not an error)."""
    return portal_page(request, "portal/403.html", {"needed": needed}, status=403, title="Not allowed")


def not_found(request: HttpRequest, message: str = "") -> HttpResponse:
    return portal_page(request, "portal/404.html", {"message": message}, status=404, title="Not found")


class PortalMixin:
    title = ""
    nav = ""
    read_role: Role = Role.VIEWER
    write_role: Role = Role.OPERATOR
    partial_template_name: str | None = None

    def required_role(self, request: HttpRequest) -> Role:
        return self.read_role if request.method in READ_METHODS else self.write_role

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            if is_htmx(request):  # a fragment whose session ended: the whole page goes to sign in
                return HttpResponse(status=204, headers={"HX-Redirect": login_url(request)})
            return redirect_to_login(request.get_full_path(), reverse(LOGIN_URL_NAME))
        needed = self.required_role(request)
        if not user.has_role(needed):
            return forbidden(request, needed)
        try:
            response = super().dispatch(request, *args, **kwargs)
        except NotFound as exc:
            return not_found(request, str(exc))
        if self.partial_template_name:  # a page and a fragment at one URL: caches must keep both apart
            patch_vary_headers(response, ["HX-Request"])
        return response

    @cached_property
    def actor(self) -> Actor:
        return portal_actor(self.request)

    def get_template_names(self) -> list[str]:
        if self.partial_template_name and is_htmx(self.request):
            return [self.partial_template_name]
        return super().get_template_names()

    def get_context_data(self, **kwargs: Any) -> dict:
        layout = layout_context(self.request, nav=self.nav, title=self.title, write_role=self.write_role)
        return {**layout, **super().get_context_data(**kwargs)}


class PortalView(PortalMixin, TemplateView):
    """A portal page rendering ``template_name`` with ``get_context_data``."""
