"""A CA with 100,000 revoked certificates: its CRL lists every one with its reason, openssl verifies its
signature, and a relying party that already holds it gets a 304 without the 5 MB being read. (How long
it takes is measured by bench/crl.py, not asserted here.)"""

from __future__ import annotations

import pytest
from cryptography import x509
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.certificates.pki.crl import crl_publish
from tests.conftest import TENANT_A
from tests.pki.conftest import openssl
from tests.pki.revoked_bulk import reason_of, revoked_versions_create
from tests.pki.test_mtls import issue

pytestmark = pytest.mark.django_db
COUNT = 100_000


def test_a_crl_of_100000_revoked_certificates(tenant_a, hierarchy_a, tmp_path):
    version = issue(tenant_a, "alpha", "client", name="many", subject={"common_name": "many"})
    with tenant_context(tenant_a):
        serials = revoked_versions_create(version, COUNT)
        published = crl_publish(authority=hierarchy_a[1])
    assert published.entries == COUNT

    client = Client(HTTP_HOST=TENANT_A["domain"])
    answer = client.get("/pki/alpha/crl.der")
    crl = x509.load_der_x509_crl(answer.content)
    assert len(crl) == COUNT
    for number in (0, 1, 2, 3, 4, COUNT // 2, COUNT - 1):
        entry = crl.get_revoked_certificate_by_serial_number(int(serials[number], 16))
        reason = reason_of(number)
        if reason == "unspecified":
            assert not any(isinstance(ext.value, x509.CRLReason) for ext in entry.extensions)
        else:
            assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name.replace("_", "") == reason
    (tmp_path / "crl.der").write_bytes(answer.content)
    (tmp_path / "ca.pem").write_text(hierarchy_a[1].certificate_pem)
    checked = openssl("crl", "-inform", "DER", "-in", str(tmp_path / "crl.der"), "-CAfile", str(tmp_path / "ca.pem"),
                      "-noout")  # fmt: skip
    assert "verify OK" in checked.stderr + checked.stdout

    with CaptureQueriesContext(connection) as queries:
        unchanged = client.get("/pki/alpha/crl.pem", HTTP_IF_NONE_MATCH=answer["ETag"])
    assert unchanged.status_code == 304
    assert not any('"der"' in query["sql"] for query in queries.captured_queries), "the CRL itself was read"
