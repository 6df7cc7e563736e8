"""The ACME engine and HTTP-01: no DNS account needed (dns-01 still needs one), and a webroot the
platform no longer allows fails the order before certbot starts, saying why."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.engine import AcmeEngine
from apps.certificates.engines import EngineError
from apps.certificates.models import Certificate
from tests.factories import accounts


def test_a_dns_account_is_needed_for_dns01_only(tenant_a):
    with tenant_context(tenant_a):
        ca, _ = accounts()
        by_dns = Certificate.objects.create(identifier="dns.alpha.test", ca_account=ca)
        by_http = Certificate.objects.create(identifier="http.alpha.test", ca_account=ca, challenge="http-01")
        without_ca = Certificate.objects.create(identifier="none.alpha.test", challenge="http-01")
    with pytest.raises(EngineError, match="has no DNS account \\(dns-01 needs one\\)"):
        AcmeEngine().check(by_dns)
    AcmeEngine().check(by_http)
    with pytest.raises(EngineError, match=r"none\.alpha\.test has no CA account: set what is missing"):
        AcmeEngine().check(without_ca)


def test_a_webroot_the_platform_no_longer_allows_fails_the_order_at_once(tenant_a, settings, tmp_path):
    settings.CERTMATE_WEBROOT_ROOTS = [f"{tmp_path}/{{tenant}}"]
    with tenant_context(tenant_a):
        ca, _ = accounts()
        certificate = Certificate.objects.create(
            identifier="site.alpha.test", ca_account=ca, challenge="http-01", webroot=f"{tmp_path}/alpha/site"
        )
        settings.CERTMATE_WEBROOT_ROOTS = ["/srv/acme/{tenant}"]
        with pytest.raises(EngineError, match=r"site.alpha.test: webroot .* is not under /srv/acme/alpha") as refused:
            AcmeEngine().obtain(certificate, keep_alive=lambda: None)
    assert refused.value.code == "invalid_webroot" and not refused.value.transient
