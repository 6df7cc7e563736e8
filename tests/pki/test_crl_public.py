"""A tenant's CRLs and CA certificates on its host, without authentication: what openssl and a TLS
server make of them (signatures, revoked certificates refused in a real handshake), the caching headers
relying parties and proxies go by, and that a host serves its own tenant's CAs only."""

from __future__ import annotations

import ssl
from datetime import timedelta

import pytest
from cryptography import x509
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import timezone
from django.utils.http import http_date, parse_http_date
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority, CertificateVersion, RevocationList
from apps.certificates.pki.authorities import ca_external_create, ca_state_set
from apps.certificates.pki.crl import crl_publish
from apps.certificates.pki.publication import crl_response
from certmate.audit.models import AuditEvent
from tests.conftest import PUBLIC_HOST, TENANT_A, TENANT_B
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl
from tests.pki.test_mtls import client, issue
from tests.pki.tls import OpensslServer, client_context, credentials_write, tls_exchange

pytestmark = pytest.mark.django_db


def fetch(path: str, *, host: str = TENANT_A["domain"], method: str = "get", **headers):
    return getattr(Client(HTTP_HOST=host), method)(path, **headers)


def revoke(tenant, version, reason: str = "keycompromise") -> None:
    """What a revocation does to the CA's CRL (rev-services' service does the same in one transaction)."""
    with tenant_context(tenant):
        version.revoked_at, version.revocation_reason = timezone.now(), reason
        version.save(update_fields=["revoked_at", "revocation_reason"])
        crl_publish(authority=version.authority)


def saved(tmp_path, name: str, content: bytes | str):
    path = tmp_path / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return path


def crls(tenant, name: str) -> list[int]:
    with tenant_context(tenant):
        return list(RevocationList.objects.filter(authority__name=name).values_list("number", flat=True))


def test_the_crls_are_signed_by_their_ca_in_der_and_pem(tenant_a, hierarchy_a, tmp_path):
    root, intermediate = hierarchy_a
    for ca, anchor in (("alpha", intermediate), ("alpha-root", root)):
        der, pem = fetch(f"/pki/{ca}/crl.der"), fetch(f"/pki/{ca}/crl.pem")
        assert (der.status_code, der["Content-Type"]) == (200, "application/pkix-crl")
        assert (pem.status_code, pem["Content-Type"]) == (200, "application/x-pem-file")
        assert pem.content.startswith(b"-----BEGIN X509 CRL-----\n")
        assert x509.load_pem_x509_crl(pem.content) == x509.load_der_x509_crl(der.content)
        cafile = saved(tmp_path, f"{ca}.pem", anchor.certificate_pem)
        for form, body in (("DER", der.content), ("PEM", pem.content)):
            checked = openssl("crl", "-inform", form, "-in", str(saved(tmp_path, f"{ca}.{form}", body)),
                              "-CAfile", str(cafile), "-noout")  # fmt: skip
            assert "verify OK" in checked.stderr + checked.stdout
        # Signed by its own CA only: the other one's certificate does not verify it.
        other = saved(tmp_path, "other.pem", (root if anchor is intermediate else intermediate).certificate_pem)
        refused = openssl("crl", "-inform", "DER", "-in", str(tmp_path / f"{ca}.DER"), "-CAfile", str(other),
                          "-noout", check=False)  # fmt: skip
        assert "verify OK" not in refused.stderr + refused.stdout


def test_a_cas_first_crl_is_signed_on_the_first_request_and_then_served(tenant_a, hierarchy_a):
    assert crls(tenant_a, "alpha") == []
    first = fetch("/pki/alpha/crl.der")
    again = fetch("/pki/alpha/crl.pem")
    assert crls(tenant_a, "alpha") == [1]
    assert (
        first["ETag"] == again["ETag"]
        and x509.load_der_x509_crl(first.content).extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        == 1
    )
    with tenant_context(tenant_a):  # a recorded write, by certmate itself
        event = AuditEvent.objects.get(action="certificate_authority.crl_published", object_name="alpha")
    assert event.actor_type == "system" and event.changes["crl_number"] == [None, 1]


def test_caching_headers_match_the_crl_and_conditional_requests_get_304(tenant_a, hierarchy_a):
    answer = fetch("/pki/alpha/crl.der")
    crl = x509.load_der_x509_crl(answer.content)
    assert answer["Expires"] == http_date(crl.next_update_utc.timestamp())
    assert answer["Last-Modified"] == http_date(crl.last_update_utc.timestamp())
    max_age = int(answer["Cache-Control"].removeprefix("public, max-age="))
    assert abs(max_age - (crl.next_update_utc - timezone.now()).total_seconds()) < 30
    assert (crl.next_update_utc - crl.last_update_utc) == timedelta(hours=168)
    etag = answer["ETag"]
    assert etag.startswith('"') and etag.endswith('-crl-1"')

    for validators in ({"HTTP_IF_NONE_MATCH": etag}, {"HTTP_IF_MODIFIED_SINCE": answer["Last-Modified"]}):
        unchanged = fetch("/pki/alpha/crl.der", **validators)
        assert (unchanged.status_code, unchanged.content) == (304, b"")
        assert all(unchanged[h] == answer[h] for h in ("ETag", "Expires", "Last-Modified", "Cache-Control"))

    with tenant_context(tenant_a):
        crl_publish(authority=hierarchy_a[1], now=timezone.now() + timedelta(seconds=2))  # a revocation, say
    newer = fetch("/pki/alpha/crl.der", HTTP_IF_NONE_MATCH=etag)
    assert newer.status_code == 200 and newer["ETag"].endswith('-crl-2"')
    assert parse_http_date(newer["Last-Modified"]) > parse_http_date(answer["Last-Modified"])


def test_head_answers_the_headers_and_other_methods_are_refused(tenant_a, hierarchy_a):
    head = fetch("/pki/alpha/crl.der", method="head")
    get = fetch("/pki/alpha/crl.der")
    assert (head.status_code, head.content) == (200, b"")
    assert all(head[h] == get[h] for h in ("ETag", "Expires", "Content-Type"))
    assert fetch("/pki/alpha/ca.pem", method="head").status_code == 200
    for method in ("post", "put", "delete"):
        assert fetch("/pki/alpha/crl.der", method=method).status_code == 405  # not a CSRF 403: no form here


def test_the_ca_certificate_is_served_as_der_and_pem(tenant_a, hierarchy_a):
    intermediate = x509.load_pem_x509_certificate(hierarchy_a[1].certificate_pem.encode())
    der, pem = fetch("/pki/alpha/ca.der"), fetch("/pki/alpha/ca.pem")
    assert (der["Content-Type"], pem["Content-Type"]) == ("application/pkix-cert", "application/x-pem-file")
    assert x509.load_der_x509_certificate(der.content) == intermediate == x509.load_pem_x509_certificate(pem.content)
    assert der["ETag"] == f'"{hierarchy_a[1].fingerprint_sha256}"' and der["Cache-Control"] == "public, max-age=86400"
    assert fetch("/pki/alpha/ca.der", HTTP_IF_NONE_MATCH=der["ETag"]).status_code == 304
    # The URL a leaf's AIA caIssuers names serves its issuer, the root's the root.
    root = fetch("/pki/alpha-root/ca.der")
    assert x509.load_der_x509_certificate(root.content).subject == intermediate.issuer


def test_a_host_serves_its_own_tenants_cas_only(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    for path in ("/pki/alpha/crl.der", "/pki/alpha/crl.pem", "/pki/alpha/ca.der", "/pki/alpha-root/ca.pem"):
        assert fetch(path).status_code == 200
        for host in (TENANT_B["domain"], PUBLIC_HOST):
            refused = fetch(path, host=host)
            assert refused.status_code == 404 and b"alpha" not in refused.content, (host, path)
    assert fetch("/pki/beta/crl.der", host=TENANT_B["domain"]).status_code == 200
    assert fetch("/pki/beta/crl.der").status_code == 404
    assert crls(tenant_b, "beta") == [1] and crls(tenant_a, "alpha") == [1]  # B's request signed B's CRL only


@pytest.mark.parametrize(
    "name", ["nobody", "ALPHA", "alpha%00", "%2e%2e", "a" * 300, "1", "alpha%2Fcrl.der", "<script>x</script>"]
)
def test_an_unknown_ca_is_a_plain_404_that_does_not_repeat_the_name(tenant_a, hierarchy_a, name):
    for leaf in ("crl.der", "crl.pem", "ca.der", "ca.pem"):
        answer = fetch(f"/pki/{name}/{leaf}")
        assert answer.status_code == 404
        assert name.lower()[:20] not in answer.content.decode(errors="replace").lower()


def test_a_pending_ca_publishes_nothing(tenant_a):
    with tenant_context(tenant_a):
        ca_external_create(name="outside", common_name="Outside CA", key_type="ec256", actor=TEST_ACTOR)
    for leaf in ("crl.der", "ca.der", "ca.pem"):
        assert fetch(f"/pki/outside/{leaf}").status_code == 404
    assert crls(tenant_a, "outside") == []


def test_an_expired_crl_is_replaced_on_request_when_beat_did_not(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        crl_publish(authority=hierarchy_a[1], now=timezone.now() - timedelta(hours=200))
    answer = fetch("/pki/alpha/crl.der")
    assert x509.load_der_x509_crl(answer.content).next_update_utc > timezone.now()
    assert crls(tenant_a, "alpha") == [2, 1]


@pytest.fixture
def alice_and_bob(tenant_a, hierarchy_a, tmp_path):
    """Two client certificates of tenant A; Bob's is revoked (keyCompromise), Alice's is good."""
    alice, bob = (client(tenant_a, tmp_path, name) for name in ("alice", "bob"))
    with tenant_context(tenant_a):
        bob_version = CertificateVersion.objects.get(certificate__identifier="bob")
    revoke(tenant_a, bob_version)
    return alice, bob


def test_openssl_verify_with_the_published_crl_refuses_the_revoked_certificate(alice_and_bob, tmp_path):
    crl = saved(tmp_path, "alpha.crl.pem", fetch("/pki/alpha/crl.pem").content)
    both_crls = saved(tmp_path, "all.crl.pem", crl.read_bytes() + fetch("/pki/alpha-root/crl.pem").content)
    for holder, expected in zip(alice_and_bob, ("OK", "certificate revoked"), strict=True):
        for check, crl_file in (("-crl_check", crl), ("-crl_check_all", both_crls)):
            done = openssl("verify", check, "-CRLfile", str(crl_file), "-CAfile", str(holder.root),
                           "-untrusted", str(holder.intermediate), str(holder.leaf), check=False)  # fmt: skip
            assert expected in done.stdout + done.stderr, (holder.leaf, check, done.stdout + done.stderr)
            assert (done.returncode == 0) == (expected == "OK")
    listed = openssl("crl", "-in", str(crl), "-noout", "-text").stdout
    assert "Key Compromise" in listed and listed.count("Serial Number:") == 1


def crl_options(tmp_path, check: str) -> tuple[str, ...]:
    """How s_server gets the CRLs fetched from certmate: the issuing CA's in a file (-CRL takes one);
    for -crl_check_all also the root's, both in a hashed directory (-CApath, as `openssl rehash` makes)."""
    fetched = fetch("/pki/alpha/crl.pem").content
    if check == "-crl_check":
        return (check, "-CRL", str(saved(tmp_path, "crl.pem", fetched)))
    folder = tmp_path / "crls"
    folder.mkdir()
    saved(folder, "alpha.pem", fetched)
    saved(folder, "alpha-root.pem", fetch("/pki/alpha-root/crl.pem").content)
    openssl("rehash", str(folder))
    return (check, "-CApath", str(folder))


@pytest.mark.tools
@pytest.mark.parametrize("check", ["-crl_check", "-crl_check_all"])
def test_a_tls_server_checking_the_published_crl_refuses_a_revoked_client_in_a_real_handshake(
    tenant_a, alice_and_bob, tmp_path, check
):
    version = issue(tenant_a, "alpha", "server", kind="server", alt_names=["DNS:localhost", "IP:127.0.0.1"])
    server = credentials_write(tmp_path, "server", version)
    options = crl_options(tmp_path, check)
    for holder, accepted in zip(alice_and_bob, (True, False), strict=True):
        with OpensslServer(
            cert=server.leaf, chain=server.intermediate, key=server.key, cafile=server.root_and_intermediate,
            extra=options,
        ) as s_server:  # fmt: skip
            context = client_context(cafile=server.root, cert_chain=holder.chain, key=holder.key)
            try:
                # A refused client only waits for the alert (a request sent to a closed peer could draw a reset).
                received = tls_exchange(s_server.port, context, send=b"GET / HTTP/1.0\r\n\r\n" if accepted else b"")
            except (ssl.SSLError, ConnectionError) as error:
                received = error
        if accepted:
            assert received.decode().startswith("HTTP/1.0 200 ok") and "Subject: CN=alice" in received.decode()
            assert "verify error" not in s_server.output
        else:
            assert "verify error:num=23:certificate revoked" in s_server.output
            assert isinstance(received, ssl.SSLError) and received.reason == "SSLV3_ALERT_CERTIFICATE_REVOKED"


def test_without_a_crl_a_crl_checking_server_refuses_even_a_good_client(tenant_a, hierarchy_a, tmp_path):
    """Why the CRL must always be there and fresh: -crl_check without the issuing CA's CRL fails closed."""
    alice = client(tenant_a, tmp_path, "alice")
    root_crl = saved(tmp_path, "root.crl.pem", fetch("/pki/alpha-root/crl.pem").content)
    done = openssl("verify", "-crl_check", "-CRLfile", str(root_crl), "-CAfile", str(alice.root),
                   "-untrusted", str(alice.intermediate), str(alice.leaf), check=False)  # fmt: skip
    assert done.returncode != 0 and "unable to get certificate CRL" in done.stdout + done.stderr


def test_a_retired_ca_is_still_served_and_a_disabled_one_too(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        ca_state_set(authority=hierarchy_a[1], state="disabled", actor=TEST_ACTOR)
    assert fetch("/pki/alpha/crl.der").status_code == 200
    with tenant_context(tenant_a):
        ca_state_set(authority=CertificateAuthority.objects.get(name="alpha"), state="retired", actor=TEST_ACTOR)
    assert fetch("/pki/alpha/crl.pem").status_code == 200 and fetch("/pki/alpha/ca.der").status_code == 200


def test_a_ca_that_cannot_sign_is_a_404_and_is_not_tried_again_at_every_request(tenant_a, hierarchy_a, caplog):
    cache.clear()
    with tenant_context(tenant_a):
        CertificateAuthority.objects.filter(name="alpha").update(private_key="not a key")
    for _ in range(3):
        assert fetch("/pki/alpha/crl.der").status_code == 404
    assert caplog.text.count("signing a CRL for CA alpha on request failed") == 1
    assert crls(tenant_a, "alpha") == []
    assert fetch("/pki/alpha-root/crl.der").status_code == 200 and fetch("/pki/alpha/ca.der").status_code == 200
    cache.clear()


def test_a_crl_pruned_between_two_reads_is_answered_with_the_newest(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        seen = crl_publish(authority=hierarchy_a[1])
        for _ in range(5):  # five revocations meanwhile: the newest five stay, the one seen is gone
            crl_publish(authority=hierarchy_a[1])
        answer = crl_response(RequestFactory().get("/pki/alpha/crl.der"), hierarchy_a[1], seen, encoding="der")
    number = x509.load_der_x509_crl(answer.content).extensions.get_extension_for_class(x509.CRLNumber).value
    assert answer.status_code == 200 and number.crl_number == 6 and answer["ETag"].endswith('-crl-6"')
