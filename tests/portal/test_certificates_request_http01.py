"""The portal's request form offers HTTP-01 (answered by certmate, or written into a webroot); what
cannot work is shown at its field in the service's words, and nothing is made."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate
from tests.factories import accounts
from tests.portal.test_certificates_request import _acme


def test_http01_is_asked_for_and_a_wildcard_is_refused_at_the_challenge(tenant_a, signed_in, settings, tmp_path):
    settings.CERTMATE_WEBROOT_ROOTS = [f"{tmp_path}/{{tenant}}"]
    client = signed_in(tenant_a, "operator")
    with tenant_context(tenant_a):
        accounts()
    page = client.get("/certificates/request/").content.decode()
    assert 'name="acme-challenge"' in page and 'name="acme-webroot"' in page
    refused = _acme(client, "shop.example.com\n*.shop.example.com", challenge="http-01")
    assert refused.status_code == 400
    assert "*.shop.example.com: a wildcard name can only be validated with dns-01" in refused.content.decode()
    outside = _acme(client, "shop.example.com", challenge="http-01", webroot="/etc")
    assert outside.status_code == 400 and f"{tmp_path}/alpha" in outside.content.decode()
    with tenant_context(tenant_a):
        assert not Certificate.objects.exists()
    asked = _acme(client, "shop.example.com", challenge="http-01", webroot=f"{tmp_path}/alpha/shop")
    assert asked.status_code == 302
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get()
    assert (certificate.challenge, certificate.webroot) == ("http-01", f"{tmp_path}/alpha/shop")
    shown = client.get(asked["Location"]).content.decode()
    assert "HTTP-01" in shown and f"{tmp_path}/alpha/shop" in shown
