"""Who reaches the certificate pages: every page for anonymous visitors and each role, write URLs
refused (403) to viewers, viewers shown no write control, and two tenants kept apart (A's session is
nothing on B's host; A's certificate id on B's host is B's 404)."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate
from tests.factories import certificate_make
from tests.portal.conftest import ROLES
from tests.portal.test_pages import parse

READ_PAGES = ("/certificates/", "/certificates/{pk}/", "/certificates/{pk}/jobs/")
WRITE_PAGES = ("/certificates/request/", "/certificates/{pk}/revoke/", "/certificates/{pk}/delete/",
               "/certificates/{pk}/download/")  # fmt: skip
# Every POST, with data a viewer would send: each must be refused before anything happens.
WRITE_POSTS = {
    "/certificates/request/": {"engine": "acme", "acme-names": "x.example.com"},
    "/certificates/bulk/": {"action": "delete", "ids": ["{pk}"], "confirm": "1"},
    "/certificates/{pk}/renew/": {},
    "/certificates/{pk}/revoke/": {"reason": "unspecified"},
    "/certificates/{pk}/delete/": {},
    "/certificates/{pk}/settings/": {"auto_renew": "", "renew_before_days": "5"},
    "/certificates/{pk}/download/": {"file": "privkey.pem"},
    "/certificates/{pk}/versions/1/unhold/": {},
}
WRITE_CONTROLS = ("Renew now", "Revoke…", "Delete…", "Request a certificate", 'form="bulk"', "Lift the hold",
                  'name="renew_before_days"', "With the private key")  # fmt: skip


@pytest.fixture
def served(tenant_a):
    with tenant_context(tenant_a):
        return certificate_make("alpha.example.com", san_domains=("www.alpha.example.com",))


def _paths(paths, pk):
    return [path.format(pk=pk) for path in paths]


def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_page(tenant_a, signed_in, served):
    client = signed_in(tenant_a, None)
    for path in _paths(READ_PAGES + WRITE_PAGES, served.pk):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/?next=/certificates/"), path
    for path, data in WRITE_POSTS.items():
        assert client.post(path.format(pk=served.pk), data).status_code == 302, path


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_certificates(tenant_a, signed_in, served, role):
    client = signed_in(tenant_a, role)
    for path in _paths(READ_PAGES, served.pk):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "alpha.example.com" in response.content.decode(), path
    nav = {link.key: link for link in response.context["nav_links"]}
    assert nav["certificates"].url == "/certificates/" and not nav["certificates"].in_admin
    assert nav["certificates"].current
    if role != "viewer":
        assert nav["request"].url == "/certificates/request/" and not nav["request"].in_admin


def test_a_viewer_sees_no_write_control_and_is_refused_every_write(tenant_a, signed_in, served):
    viewer = signed_in(tenant_a, "viewer")
    for path in _paths(READ_PAGES, served.pk):
        page = viewer.get(path).content.decode()
        for control in WRITE_CONTROLS:
            assert control not in page, (path, control)
    for path in _paths(WRITE_PAGES, served.pk):
        assert viewer.get(path).status_code == 403, path
    for path, data in WRITE_POSTS.items():
        data = {key: [v.format(pk=served.pk) for v in value] if isinstance(value, list) else value
                for key, value in data.items()}  # fmt: skip
        response = viewer.post(path.format(pk=served.pk), data)
        assert response.status_code == 403, path
        assert b"role" in response.content
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(pk=served.pk)
        assert certificate.renew_before_days is None and certificate.jobs.count() == 1  # nothing happened


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_operators_and_admins_get_the_write_pages_and_controls(tenant_a, signed_in, served, role):
    client = signed_in(tenant_a, role)
    for path in _paths(WRITE_PAGES, served.pk):
        assert client.get(path).status_code == 200, path
    page = client.get(f"/certificates/{served.pk}/").content.decode()
    for control in ("Renew now", "Revoke…", "Delete…", 'name="renew_before_days"', "With the private key"):
        assert control in page, control
    assert 'form="bulk"' in client.get("/certificates/").content.decode()


def test_a_session_of_tenant_a_gets_nothing_on_tenant_bs_host(tenant_a, tenant_b, signed_in, served):
    alpha = signed_in(tenant_a, "admin")
    alpha.defaults["HTTP_HOST"] = tenant_b.get_primary_domain().domain
    for path in _paths(READ_PAGES + WRITE_PAGES, served.pk):
        response = alpha.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path
        assert b"alpha.example.com" not in response.content


def test_tenant_as_certificate_id_is_not_found_on_tenant_bs_host(tenant_a, tenant_b, signed_in, served):
    with tenant_context(tenant_a):
        other = certificate_make("alpha-two.example.com", versions=0).pk
    with tenant_context(tenant_b):
        certificate_make("beta.example.com")
        assert not Certificate.objects.filter(pk=other).exists()  # each schema numbers its own rows
    beta = signed_in(tenant_b, "admin")
    for pk in (other, 2**70):
        pages = [path for path in READ_PAGES + WRITE_PAGES if "{pk}" in path]
        pages.append("/certificates/{pk}/download/cert.pem/")
        for path in _paths(pages, pk):
            assert beta.get(path).status_code == 404, path
        assert beta.post(f"/certificates/{pk}/delete/").status_code == 404
    listing = beta.get("/certificates/").content.decode()
    assert "beta.example.com" in listing and "alpha.example.com" not in listing
    # A's id posted to B's bulk page: not there, nothing done.
    done = beta.post("/certificates/bulk/", {"action": "delete", "ids": [str(other)], "confirm": "1"})
    assert done.status_code == 200 and done.context["missing"] == 1
    with tenant_context(tenant_a):
        assert Certificate.objects.filter(pk=other).exists()


def test_the_certificate_pages_keep_to_the_content_security_policy(tenant_a, signed_in, served):
    admin = signed_in(tenant_a, "admin")
    for path in [*_paths(READ_PAGES + WRITE_PAGES, served.pk), "/certificates/request/?engine=private"]:
        page = parse(admin.get(path).content.decode())
        assert page.inline_scripts == 0 and page.style_attrs == 0, path
        for url in page.urls:
            assert not url.startswith(("//", "http:", "https:")), (path, url)
