"""Asking for a certificate in the portal: from an ACME CA (a job is queued once the request commits,
no worker here) and from a private CA (issued at once, or from an uploaded CSR); every refusal is
shown at the field it is about, in the service's or the profile's own words; nothing is made then."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, Job
from apps.certificates.pki.profile_services import profile_create
from tests.factories import TEST_ACTOR, accounts
from tests.portal.certificates_helpers import events, private_ca


@pytest.fixture
def acme_accounts(tenant_a):
    with tenant_context(tenant_a):
        return accounts()


@pytest.fixture
def profiles(tenant_a):
    authority = private_ca(tenant_a)
    with tenant_context(tenant_a):
        internal = profile_create(authority=authority, name="internal", actor=TEST_ACTOR, kind="server",
                                  san_types=["dns"], name_patterns={"dns": ["*.internal.example"]})  # fmt: skip
        return {"client": authority.profiles.get(name="client"), "internal": internal}


def _acme(client, names: str, **fields):
    return client.post("/certificates/request/", {"engine": "acme", "acme-names": names,
                                                  **{f"acme-{k}": v for k, v in fields.items()}})  # fmt: skip


def _private(client, **fields):
    data = {"engine": "private", "private-kind": "client", **{f"private-{k}": v for k, v in fields.items()}}
    return client.post("/certificates/request/?engine=private", data)


def test_an_acme_request_queues_a_job_and_opens_the_certificate(
    tenant_a, signed_in, acme_accounts, django_capture_on_commit_callbacks
):
    client = signed_in(tenant_a, "operator")
    ca, dns = acme_accounts
    with django_capture_on_commit_callbacks(execute=False) as dispatched:
        response = _acme(client, "shop.example.com\n*.shop.example.com\n", ca_account=ca.pk, dns_account=dns.pk,
                         key_type="rsa2048")  # fmt: skip
    assert response.status_code == 302
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="shop.example.com")
        job = Job.objects.get(certificate=certificate)
    assert certificate.san_domains == ["*.shop.example.com"] and certificate.key_type == "rsa2048"
    assert job.status == "queued" and job.operation == "issue"
    assert len(dispatched) == 1  # handed to a worker once the request committed
    assert response["Location"] == f"/certificates/{certificate.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert f"Asked for shop.example.com: job {job.pk} is queued." in page
    assert f'hx-get="/certificates/{certificate.pk}/jobs/?watching=1"' in page  # the page follows the job
    [event] = events(tenant_a, "certificate.requested")
    assert event.channel == "portal" and event.actor_name == client.user.email


def test_an_acme_refusal_is_shown_at_its_field_in_the_services_words(tenant_a, signed_in, acme_accounts):
    client = signed_in(tenant_a, "operator")
    response = _acme(client, "not a domain\nwww.example.com")
    assert response.status_code == 400
    form = response.context["forms"]["acme"]
    assert form.errors["names"] and "not a domain" in form.errors["names"][0]
    assert 'class="field field--invalid"' in response.content.decode()
    with tenant_context(tenant_a):
        assert not Certificate.objects.exists()


def test_a_private_certificate_is_issued_at_once(tenant_a, signed_in, profiles):
    client = signed_in(tenant_a, "operator")
    response = _private(client, profile=profiles["client"].pk, name="alice-laptop", common_name="Alice",
                        alt_names="email:alice@example.com", key_type="ec256")  # fmt: skip
    assert response.status_code == 302
    with tenant_context(tenant_a):
        certificate = Certificate.objects.select_related("current_version").get(identifier="alice-laptop")
    assert certificate.kind == "client" and certificate.current_version.number == 1
    assert certificate.current_version.san == ["alice@example.com"]
    page = client.get(response["Location"]).content.decode()
    assert "Issued the client certificate alice-laptop." in page
    assert "client_auth" in page and "CN=Alpha CA" in page  # facts: EKU, the chain
    [event] = events(tenant_a, "certificate.issued")
    assert event.channel == "portal"


def test_a_profiles_refusal_is_shown_at_the_field_in_its_words(tenant_a, signed_in, profiles):
    client = signed_in(tenant_a, "operator")
    response = _private(client, profile=profiles["internal"].pk, kind="server",
                        alt_names="db.internal.example\ndb.other.example")  # fmt: skip
    assert response.status_code == 400
    errors = response.context["forms"]["private"].errors
    assert list(errors) == ["alt_names"]
    said = "'db.other.example': not allowed by profile 'internal' (allowed: *.internal.example)"
    assert errors["alt_names"] == [said]
    response = _private(client, profile=profiles["internal"].pk, kind="client", alt_names="db.internal.example")
    assert "it issues server certificates only" in response.context["forms"]["private"].errors["kind"][0]
    with tenant_context(tenant_a):
        assert not Certificate.objects.exists()  # nothing signed


def _csr(common_name: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM)


def test_a_csr_upload_is_signed_and_the_key_stays_with_the_requester(tenant_a, signed_in, profiles):
    client = signed_in(tenant_a, "operator")
    upload = SimpleUploadedFile("bob.csr", _csr("bob"), content_type="application/pkcs10")
    response = _private(client, profile=profiles["client"].pk, name="bob", csr_file=upload)
    assert response.status_code == 302
    with tenant_context(tenant_a):
        version = Certificate.objects.get(identifier="bob").current_version
    assert version.subject == "CN=bob" and not version.has_private_key
    junk = SimpleUploadedFile("junk.csr", b"\xff\xfe not a csr", content_type="application/octet-stream")
    refused = _private(client, profile=profiles["client"].pk, name="carol", csr_file=junk)
    assert refused.status_code == 400 and "not a PEM file" in refused.context["forms"]["private"].errors["csr_file"][0]
    pasted = _private(client, profile=profiles["client"].pk, name="dave", csr_pem="-----BEGIN CERTIFICATE REQUEST-----")
    assert "the CSR cannot be read" in pasted.context["forms"]["private"].errors["csr_pem"][0]


def test_an_unknown_engine_or_hostile_values_are_a_400(tenant_a, signed_in, profiles):
    client = signed_in(tenant_a, "operator")
    assert client.post("/certificates/request/", {"engine": "x"}).status_code == 400
    response = _private(client, profile="999999999999999999999", name="a" * 500, common_name="\x00")
    assert response.status_code == 400 and response.context["forms"]["private"].errors
