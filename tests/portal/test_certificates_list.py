"""The certificate list: search, each filter, sorting both ways, paging, the htmx fragment, hostile
query strings (a 200 with the form's errors, never a 500), and a bounded number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.models import Certificate, CertificateStatus
from tests.factories import TEST_ACTOR, accounts, certificate_make
from tests.portal.certificates_helpers import bulk_certificates, private_ca, private_certificate


def names(response) -> list[str]:
    return [certificate.identifier for certificate in response.context["page"].object_list]


@pytest.fixture
def mix(tenant_a):
    """Five certificates: served, pending, failed, revoked, a private client one; accounts to filter by."""
    intermediate = private_ca(tenant_a)
    with tenant_context(tenant_a):
        ca, dns = accounts()
        other_ca = ca_account_create(actor=TEST_ACTOR, name="zerossl-ish", directory="letsencrypt",
                                     email="ops@example.com")  # fmt: skip
        served = certificate_make("www.example.com", san_domains=("shop.example.com",))
        certificate_make("pending.example.org", versions=0, auto_renew=False)
        Certificate.objects.filter(identifier="pending.example.org").update(ca_account=other_ca)
        failed = certificate_make("failed.example.net")
        Certificate.objects.filter(pk=failed.pk).update(status=CertificateStatus.FAILED)
        revoked = certificate_make("revoked.example.com")
        revoked.current_version.revoked_at = timezone.now()
        revoked.current_version.save()
    private = private_certificate(tenant_a, authority=intermediate)
    return {"served": served, "private": private, "ca": ca, "other_ca": other_ca, "dns": dns,
            "authority": intermediate}  # fmt: skip


def test_the_list_shows_server_and_client_certificates_in_one_table(tenant_a, signed_in, mix):
    response = signed_in(tenant_a, "viewer").get("/certificates/")
    assert names(response) == ["alice-laptop", "failed.example.net", "pending.example.org", "revoked.example.com",
                               "www.example.com"]  # fmt: skip
    page = response.content.decode()
    assert "5 certificates." in page
    assert "alpha" in page and "private CA" in page  # the private one's issuer
    assert f'href="/certificates/{mix["served"].pk}/"' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=shop", ["www.example.com"]),  # a SAN
        ("q=EXAMPLE.NET", ["failed.example.net"]),
        ("kind=client", ["alice-laptop"]),
        ("kind=server&status=active", ["www.example.com"]),
        ("status=failed", ["failed.example.net"]),
        ("status=pending", ["pending.example.org"]),
        ("status=revoked", ["revoked.example.com"]),
        ("auto_renew=off", ["pending.example.org"]),
        ("expiring=0", []),
        ("expiring=365", ["alice-laptop", "failed.example.net", "www.example.com"]),  # served: revoked is not
    ],
)
def test_each_filter_narrows_the_list(tenant_a, signed_in, mix, query, expected):
    response = signed_in(tenant_a, "viewer").get(f"/certificates/?{query}")
    assert response.status_code == 200
    assert names(response) == expected


def test_issuer_and_dns_account_filters(tenant_a, signed_in, mix):
    client = signed_in(tenant_a, "viewer")
    assert names(client.get(f"/certificates/?issuer=pki:{mix['authority'].pk}")) == ["alice-laptop"]
    assert names(client.get(f"/certificates/?issuer=ca:{mix['other_ca'].pk}")) == ["pending.example.org"]
    assert "alice-laptop" not in names(client.get(f"/certificates/?issuer=ca:{mix['ca'].pk}"))
    assert names(client.get(f"/certificates/?dns={mix['dns'].pk}")) == [
        "failed.example.net", "pending.example.org", "revoked.example.com", "www.example.com"]  # fmt: skip
    page = client.get("/certificates/").content.decode()
    assert f'value="pki:{mix["authority"].pk}"' in page and f'value="ca:{mix["other_ca"].pk}"' in page


@pytest.mark.parametrize(
    "query",
    ["kind=nope", "status=%00", "issuer=ca:999999999999999999999", "issuer=pki:x", "dns=1%20or%201", "expiring=-1",
     "expiring=99999999999", "sort=secret", "per_page=5000", "page=abc", "page=99999999999999999999",
     "q=" + "x" * 300, "q=%00"],
)  # fmt: skip
def test_a_hostile_query_string_is_answered_not_a_500(tenant_a, signed_in, mix, query):
    response = signed_in(tenant_a, "viewer").get(f"/certificates/?{query}")
    assert response.status_code == 200
    assert len(names(response)) == 5 or query.startswith("page=")  # an invalid filter narrows nothing


def test_sorting_by_each_column_both_ways(tenant_a, signed_in, mix):
    client = signed_in(tenant_a, "viewer")
    by_name = names(client.get("/certificates/?sort=name"))
    assert by_name == sorted(by_name)
    assert names(client.get("/certificates/?sort=-name")) == by_name[::-1]
    expires = names(client.get("/certificates/?sort=expires"))
    assert expires[-1] == "pending.example.org"  # never issued: last either way
    assert names(client.get("/certificates/?sort=-expires"))[-1] == "pending.example.org"
    assert names(client.get("/certificates/?sort=kind"))[0] == "alice-laptop"  # client before server
    assert names(client.get("/certificates/?sort=-created"))[0] == "alice-laptop"
    page = client.get("/certificates/?sort=name&kind=server").content.decode()
    assert 'aria-sort="ascending"><a href="?kind=server&amp;sort=-name">Name</a>' in page


def test_paging_keeps_the_filters_and_ends_on_the_last_page(tenant_a, signed_in):
    with tenant_context(tenant_a):
        bulk_certificates(60, prefix="page")
    client = signed_in(tenant_a, "viewer")
    first = client.get("/certificates/?q=page-&per_page=25")
    assert names(first)[:2] == ["page-00000.example.com", "page-00001.example.com"] and len(names(first)) == 25
    assert 'href="?q=page-&amp;per_page=25&amp;page=2"' in first.content.decode()
    assert names(client.get("/certificates/?q=page-&per_page=25&page=3")) == [
        f"page-{n:05d}.example.com" for n in range(50, 60)]  # fmt: skip
    assert len(names(client.get("/certificates/?q=page-&per_page=25&page=999"))) == 10  # the last page


def test_htmx_gets_the_table_alone_and_history_gets_the_page(tenant_a, signed_in, mix):
    client = signed_in(tenant_a, "viewer")
    fragment = client.get("/certificates/?kind=client", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert html.lstrip().startswith("{% load") is False and 'id="certificate-table"' in html
    assert "<html" not in html and "alice-laptop" in html and "www.example.com" not in html
    assert "HX-Request" in fragment["Vary"]
    restored = client.get("/certificates/?kind=client", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restored.content.decode()
    page = client.get("/certificates/").content.decode()  # the filter form updates the table with htmx
    assert 'hx-get="/certificates/"' in page and 'hx-target="#certificate-table"' in page
    assert 'method="get" action="/certificates/"' in page  # and works without it


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_the_list_reads_a_bounded_number_of_queries(tenant_a, signed_in, django_assert_max_num_queries):
    client = signed_in(tenant_a, "operator")
    path = "/certificates/?sort=-expires&status=active&q=many-"
    with tenant_context(tenant_a):
        bulk_certificates(5, prefix="many")
    few = _queries(client, path)
    with tenant_context(tenant_a):
        bulk_certificates(300, prefix="many-more")
    assert _queries(client, path) == few  # the same whatever the number of certificates
    # session, user, the 3 filter choices, count, the page's ids, its rows (+ what every signed-in page
    # reads), each after django-tenants' SET search_path
    with django_assert_max_num_queries(18):
        response = client.get(path)
    assert response.context["page"].paginator.count == 305
    assert len(names(response)) == 50
    with django_assert_max_num_queries(18):
        response = client.get("/certificates/?page=3&per_page=100")
    assert len(names(response)) == 100 and response.context["page"].paginator.num_pages == 4
