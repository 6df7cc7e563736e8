"""Unknown URLs on a tenant's host: the portal's 404 page (the API's JSON error under /api/), never
Django's debug page listing every URL pattern, whatever DEBUG says. Reached through the catch-all
pattern that ends certmate/urls_tenant.py, which also adds the missing trailing slash as
CommonMiddleware would (the catch-all makes every path "valid" to it)."""

from __future__ import annotations

from django.http import HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt

from apps.portal.base import not_found
from certmate.api.views import api_page_not_found

NOT_FOUND_URL_NAME = "portal-not-found"


def _with_slash(request) -> str | None:
    """The path with a slash appended, when that names a page (GET and HEAD only, as Django does)."""
    path = request.path_info
    if path.endswith("/") or request.method not in ("GET", "HEAD"):
        return None
    try:
        match = resolve(f"{path}/")
    except Resolver404:
        return None
    if match.url_name == NOT_FOUND_URL_NAME:
        return None
    query = request.META.get("QUERY_STRING", "")
    return f"{request.path}/" + (f"?{query}" if query else "")


@csrf_exempt  # it changes nothing: a POST to an unknown URL is a 404, not a CSRF failure's HTML 403
def unknown_url(request, path: str = ""):
    if request.path.startswith("/api/"):
        return api_page_not_found(request)
    target = _with_slash(request)
    if target is not None:
        return HttpResponsePermanentRedirect(target)
    return not_found(request)


def page_not_found(request, exception=None):
    """handler404 of tenant hosts (a view's Http404 when DEBUG is off): as ``unknown_url``, no redirect."""
    if request.path.startswith("/api/"):
        return api_page_not_found(request, exception)
    return not_found(request).render()
