"""Issued certificates point relying parties at the tenant's public PKI URLs: CRL Distribution Points
and Authority Information Access (OCSP, caIssuers), on the tenant's host or its configured base URL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateProfile, TenantSettings
from apps.certificates.pki.crl import crl_publish
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from tests.conftest import TENANT_A
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl

pytestmark = pytest.mark.django_db


def _issue(tenant):
    with tenant_context(tenant):
        profile = CertificateProfile.objects.get(authority__name="alpha", name="client")
        request = PrivateRequest(profile=profile, subject={"common_name": "carol"}, name="carol")
        return private_certificate_issue(request, actor=TEST_ACTOR).current_version


def test_leaves_carry_the_tenants_crl_and_ocsp_urls(tenant_a, hierarchy_a):
    text = openssl("x509", "-noout", "-text", input_text=_issue(tenant_a).certificate_pem).stdout
    base = f"https://{TENANT_A['domain']}"
    assert f"URI:{base}/pki/alpha/crl.der" in text
    assert f"OCSP - URI:{base}/pki/ocsp" in text and f"CA Issuers - URI:{base}/pki/alpha/ca.der" in text
    intermediate = openssl("x509", "-noout", "-text", input_text=hierarchy_a[1].certificate_pem).stdout
    assert f"URI:{base}/pki/alpha-root/crl.der" in intermediate  # the root's CRL lists its intermediates


def test_a_configured_public_base_url_is_used(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        TenantSettings.objects.update_or_create(singleton=True, defaults={"public_base_url": "https://pki.alpha.test/"})
    text = openssl("x509", "-noout", "-text", input_text=_issue(tenant_a).certificate_pem).stdout
    assert (
        "URI:https://pki.alpha.test/pki/alpha/crl.der" in text and "OCSP - URI:https://pki.alpha.test/pki/ocsp" in text
    )


def test_a_crl_lists_revoked_versions_with_reason_and_verifies(tenant_a, hierarchy_a, tmp_path):
    version = _issue(tenant_a)
    with tenant_context(tenant_a):
        version.revoked_at, version.revocation_reason = timezone.now(), "keycompromise"
        version.invalidity_date = timezone.now()
        version.save()
        first = crl_publish(authority=hierarchy_a[1])
        second = crl_publish(authority=hierarchy_a[1])
    assert (first.number, second.number, second.entries) == (1, 2, 1)
    (tmp_path / "crl.der").write_bytes(bytes(second.der))
    (tmp_path / "ca.pem").write_text(hierarchy_a[1].certificate_pem)
    text = openssl("crl", "-inform", "DER", "-in", str(tmp_path / "crl.der"), "-noout", "-text",
                   "-CAfile", str(tmp_path / "ca.pem")).stdout  # fmt: skip
    listed = [line.split(":", 1)[1].strip() for line in text.splitlines() if "Serial Number:" in line]
    assert [int(serial, 16) for serial in listed] == [int(version.serial, 16)]
    assert "Key Compromise" in text and "Invalidity Date" in text and "X509v3 CRL Number: \n                2" in text


def test_the_tenants_host_is_read_once_for_all_the_certificates_a_job_signs(tenant_a, hierarchy_a):
    vars(tenant_a).pop("_pki_primary_domain", None)  # as a job's own tenant object starts
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(authority__name="alpha", name="client")
        with CaptureQueriesContext(connection) as queries:
            for name in ("d1", "d2", "d3"):
                private_certificate_issue(PrivateRequest(profile=profile, subject={"common_name": name}, name=name),
                                          actor=TEST_ACTOR)  # fmt: skip
    domain_reads = [q["sql"] for q in queries.captured_queries if "accounts_domain" in q["sql"]]
    assert len(domain_reads) == 1, domain_reads
