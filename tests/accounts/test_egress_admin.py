"""The tenant admin's CA account form: https only, on a host the egress rule allows (as the API)."""

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import CaAccount
from tests.conftest import PASSWORD, TENANT_A

HOST = {"host": TENANT_A["domain"]}


@pytest.fixture
def admin_client(client, tenant_a, settings):
    settings.CERTMATE_EGRESS_ALLOW = []
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://acme.example.com/directory", "https://"),
        ("https://127.0.0.1:14000/dir", "127.0.0.1 is a loopback address"),
        ("https://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
        ("https://[::ffff:127.0.0.1]/dir", "IPv4-mapped address embedding 127.0.0.1"),
        ("https://localhost:14000/dir", "localhost: 127.0.0.1 is a loopback address"),
    ],
)
def test_the_admin_refuses_directories_the_rule_refuses(admin_client, tenant_a, url, why):
    form = {"name": "ca", "directory_url": url, "email": "pki@alpha.test", "eab_kid": "", "eab_hmac_key": "",
            "trust_bundle": ""}  # fmt: skip
    response = admin_client.post("/admin/certificates/caaccount/add/", form, headers=HOST)
    assert response.status_code == 200  # the form again, with the error
    assert why in response.content.decode()
    with tenant_context(tenant_a):
        assert not CaAccount.objects.exists()
