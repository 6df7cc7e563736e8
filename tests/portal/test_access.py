"""Who sees which portal page: every page for anonymous visitors and each role, the navigation by role,
write URLs refused below their role, and two tenants that never see each other's sessions or data."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.portal.base import PortalView
from certmate.errors import NotFound
from tests.factories import certificate_make
from tests.portal.conftest import ROLES, host_of

# Every page of the portal foundation a signed-in user reaches with GET.
PAGES = ("/", "/help/", "/jobs/recent/", "/account/password/")
# The pages of the sign-in flow: for anyone, signed in or not.
PUBLIC_PAGES = ("/login/", "/password-reset/", "/password-reset/sent/", "/password-reset/done/")


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_sign_in_page(tenant_a, signed_in, path):
    response = signed_in(tenant_a, None).get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_the_sign_in_pages_open_without_a_session(tenant_a, signed_in, path):
    response = signed_in(tenant_a, None).get(path)
    assert response.status_code == 200
    assert b'id="portal-nav"' not in response.content  # no navigation before signing in


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PAGES)
def test_every_role_opens_every_page(tenant_a, signed_in, role, path):
    client = signed_in(tenant_a, role)
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert client.user.email in page  # the user menu
    assert f">{Role(role).label}<" in page


def _nav_labels(response) -> set[str]:
    return {link.label for link in response.context["nav_links"]}


def test_the_navigation_shows_each_role_what_it_may_use(tenant_a, signed_in):
    viewer, operator, admin = (_nav_labels(signed_in(tenant_a, role).get("/")) for role in ROLES)
    everyone = {"Dashboard", "Certificates", "Help"}
    assert everyone <= viewer
    assert not viewer & {"Request", "Audit log", "Users", "API tokens", "Storage"}
    assert {"Request", "Audit log"} <= operator
    assert not operator & {"Users", "API tokens", "Storage"}
    assert admin >= everyone | {
        "Request",
        "Accounts",
        "Private CAs",
        "Storage",
        "Settings",
        "API tokens",
        "Users",
        "Audit log",
    }


def test_the_current_page_is_marked_in_the_navigation(tenant_a, signed_in):
    page = signed_in(tenant_a, "viewer").get("/help/").content.decode()
    assert '<a href="/help/" aria-current="page"' in page
    assert page.count('aria-current="page"') == 1


def test_only_admins_are_offered_the_django_admin(tenant_a, signed_in):
    assert b"Django admin" not in signed_in(tenant_a, "operator").get("/").content
    assert b"Django admin" in signed_in(tenant_a, "admin").get("/").content


def test_templates_know_whether_the_user_may_write(tenant_a, signed_in):
    contexts = {role: signed_in(tenant_a, role).get("/").context for role in ROLES}
    assert [contexts[role]["can_write"] for role in ROLES] == [False, True, True]
    assert [contexts[role]["is_admin"] for role in ROLES] == [False, False, True]


class _WritePage(PortalView):
    """A page with a write action, as the pages built on PortalView will have."""

    template_name = "portal/help.html"

    def post(self, request):
        return HttpResponse(f"done by {self.actor.name} via {self.actor.channel}")


class _AdminPage(_WritePage):
    write_role = Role.ADMIN


class _LookupPage(PortalView):
    def get(self, request):
        raise NotFound("no certificate named example.org")


def _call(view, tenant, user, method="post"):
    request = getattr(RequestFactory(), method)("/x/", HTTP_HOST=host_of(tenant))
    request.user, request.tenant = user, tenant
    return view.as_view()(request)


@pytest.mark.parametrize(("view", "allowed"), [(_WritePage, ("operator", "admin")), (_AdminPage, ("admin",))])
def test_a_write_url_answers_403_below_its_role(tenant_a, portal_user, view, allowed):
    for role in ROLES:
        user = portal_user(tenant_a, role)
        with tenant_context(tenant_a):
            response = _call(view, tenant_a, user)
            if response.status_code == 403:
                response.render()
        if role in allowed:
            assert response.status_code == 200
            assert response.content.decode() == f"done by {user.email} via portal"  # the actor for services
        else:
            assert response.status_code == 403
            assert b"role" in response.content


def test_a_selector_not_found_answers_the_portal_404_page(tenant_a, portal_user):
    user = portal_user(tenant_a, "viewer")
    with tenant_context(tenant_a):
        response = _call(_LookupPage, tenant_a, user, method="get").render()
    assert response.status_code == 404
    assert b"no certificate named example.org" in response.content


def test_a_session_of_one_tenant_is_nothing_on_another_tenants_host(tenant_a, tenant_b, signed_in):
    with tenant_context(tenant_a):
        certificate_make("secret-alpha.example.com")
    alpha = signed_in(tenant_a, "admin")
    assert b"secret-alpha.example.com" in alpha.get("/").content
    # The same browser (A's session cookie) on B's host.
    alpha.defaults["HTTP_HOST"] = host_of(tenant_b)
    for path in PAGES:
        response = alpha.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/"), path
    page = alpha.get("/login/").content.decode()
    assert "secret-alpha" not in page
    assert alpha.user.email not in page
    assert "Beta" in page  # B's own sign-in page


def test_a_user_of_one_tenant_cannot_sign_in_on_another(tenant_a, tenant_b, signed_in, portal_user):
    user = portal_user(tenant_a, "admin")
    beta = signed_in(tenant_b, None)
    response = beta.post("/login/", {"username": user.email, "password": "correct-horse-battery-staple"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert beta.get("/").status_code == 302
