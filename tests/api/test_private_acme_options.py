"""A private CA's certificate has no ACME options: a challenge, a webroot, an ACME profile or a fallback
chain asked for it is refused with a 400 naming them, and nothing is stored unused."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate
from tests.pki.conftest import hierarchy_a  # noqa: F401 - fixture
from tests.private_issued import private_issue


@pytest.fixture
def server(tenant_a, hierarchy_a):  # noqa: F811 - the fixture imported above
    return private_issue(tenant_a, ca="alpha", profile="server", kind="server", name="db.alpha.internal",
                         alt_names=["DNS:db.alpha.internal"])  # fmt: skip


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"acme_profile": "shortlived"}, "acme_profile"),
        ({"challenge": "http-01"}, "challenge"),
    ],
)
def test_acme_options_are_refused_for_a_private_certificate(tenant_a, api_client, server, change, named):
    response = api_client(tenant_a, "admin").patch(f"/api/certificates/{server.identifier}", change)
    assert response.status_code == 400, response.content
    assert named in response.json()["error"] and "private CA 'alpha'" in response.json()["error"]
    with tenant_context(tenant_a):
        stored = Certificate.objects.get(pk=server.pk)
    assert (stored.acme_profile, stored.challenge) == ("", "dns-01")


def test_what_a_private_certificate_has_may_be_sent_back_unchanged(tenant_a, api_client, server):
    response = api_client(tenant_a, "admin").patch(
        f"/api/certificates/{server.identifier}", {"challenge": "dns-01", "auto_renew": False}
    )
    assert response.status_code == 200, response.content
