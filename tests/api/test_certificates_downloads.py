"""Downloads: what comes out is the version's material, read back with cryptography; every download
holding the private key leaves an audit event of who took it, when, which version and how."""

from __future__ import annotations

import io
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.utils import timezone
from django_tenants.utils import tenant_context

from certmate.audit.models import AuditEvent
from tests.factories import certificate_make

URL = "/api/certificates/www.alpha.test/download"


@pytest.fixture
def operator(tenant_a, api_client):
    return api_client(tenant_a, "operator")


@pytest.fixture(params=[False, True], ids=["ec", "rsa"])
def version(request, tenant_a):
    with tenant_context(tenant_a):
        return certificate_make("www.alpha.test", versions=1, rsa=request.param).current_version


def public_numbers(key):
    return key.public_key().public_numbers()


def certificate_key(version):
    return x509.load_pem_x509_certificate(version.certificate_pem.encode()).public_key().public_numbers()


def records(tenant):
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(action="private_key.downloaded").order_by("id"))


def test_zip_holds_the_versions_pems(tenant_a, operator, version):
    response = operator.get(URL)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="www.alpha.test_certificates.zip"'
    assert response["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert files == {
        "cert.pem": version.certificate_pem,
        "chain.pem": version.chain_pem,
        "fullchain.pem": version.fullchain_pem,
        "privkey.pem": version.private_key,
    }


def test_public_zip_leaves_the_key_out(operator, version):
    response = operator.get(URL + "?include_private=false")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == ["cert.pem", "chain.pem", "fullchain.pem"]
    assert 'filename="www.alpha.test_certificates_public.zip"' in response["Content-Disposition"]


def test_json_inlines_the_pems_and_pkcs1_adds_the_traditional_key(operator, version):
    body = operator.get(URL + "?format=json").json()
    assert body == {
        "domain": "www.alpha.test",
        "version": 1,
        "cert_pem": version.certificate_pem,
        "chain_pem": version.chain_pem,
        "fullchain_pem": version.fullchain_pem,
        "private_key_pem": version.private_key,
    }
    with_pkcs1 = operator.get(URL + "?format=json&key_format=pkcs1").json()
    traditional = with_pkcs1["private_key_pkcs1_pem"]
    assert with_pkcs1["private_key_pem"] == version.private_key
    assert traditional.startswith("-----BEGIN RSA PRIVATE KEY" if version.key_algorithm == "RSA" else "-----BEGIN EC")


@pytest.mark.parametrize(
    ("name", "field"), [("cert.pem", "certificate_pem"), ("chain.pem", "chain_pem"), ("fullchain.pem", "fullchain_pem")]
)
def test_each_public_file(operator, version, name, field):
    response = operator.get(f"{URL}?file={name}")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    assert response["Content-Disposition"] == f'attachment; filename="www.alpha.test_{name}"'
    assert response.content.decode() == getattr(version, field)
    short = operator.get(f"{URL}/{name.removesuffix('.pem')}")
    assert short.content == response.content


def test_privkey_and_combined(operator, version):
    key = operator.get(URL + "?file=privkey.pem")
    assert key.content.decode() == version.private_key
    combined = operator.get(URL + "?file=combined.pem").content.decode()
    assert combined == version.fullchain_pem + version.private_key
    assert operator.get(URL + "/combined").content.decode() == combined


@pytest.mark.parametrize(("key_format", "header"), [("pkcs1", None), ("pkcs8", "-----BEGIN PRIVATE KEY-----")])
def test_key_formats_parse_back_to_the_certificates_key(operator, version, key_format, header):
    response = operator.get(f"{URL}?file=privkey.pem&key_format={key_format}")
    pem = response.content.decode()
    expected = header or (
        "-----BEGIN RSA PRIVATE KEY-----" if version.key_algorithm == "RSA" else "-----BEGIN EC PRIVATE KEY-----"
    )
    assert pem.startswith(expected)
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert public_numbers(key) == certificate_key(version)


def test_pfx_holds_certificate_key_and_chain(operator, version):
    password = "s3cret pässword"
    response = operator.post(URL, {"file": "cert.pfx", "password": password}, format="json")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pkcs12"
    assert response["Content-Disposition"] == 'attachment; filename="www.alpha.test_cert.pfx"'
    bundle = pkcs12.load_pkcs12(response.content, password.encode())
    certificate = x509.load_pem_x509_certificate(version.certificate_pem.encode())
    chain = x509.load_pem_x509_certificates(version.chain_pem.encode())
    assert bundle.cert.certificate == certificate and bundle.cert.friendly_name == b"www.alpha.test"
    assert [extra.certificate for extra in bundle.additional_certs] == chain
    assert public_numbers(bundle.key) == certificate_key(version)
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(response.content, None)


def test_pfx_without_a_password_is_refused_never_unencrypted(tenant_a, operator, version):
    for response in (operator.get(URL + "?file=cert.pfx"), operator.post(URL, {"file": "cert.pfx"}, format="json")):
        assert response.status_code == 400 and response.json()["code"] == "password_required"
        assert b"PRIVATE KEY" not in response.content
    assert records(tenant_a) == []


def test_pfx_password_in_a_header_or_a_body_never_in_the_url(operator, version):
    by_header = operator.get(URL + "?file=cert.pfx", HTTP_X_PFX_PASSWORD="hdr")
    assert pkcs12.load_pkcs12(by_header.content, b"hdr").key is not None
    by_body = operator.post(URL, {"file": "cert.pfx", "password": "body"}, format="json")
    assert pkcs12.load_pkcs12(by_body.content, b"body").key is not None
    by_query = operator.get(URL + "?file=cert.pfx&password=qs")
    assert by_query.status_code == 400 and by_query.json()["code"] == "password_in_url"
    assert "X-PFX-Password" in by_query.json()["error"]


def test_private_key_downloads_are_recorded_public_ones_are_not(tenant_a, operator, version):
    started = timezone.now()
    for query in ("?file=cert.pem", "?file=chain.pem", "?file=fullchain.pem", "?include_private=false"):
        assert operator.get(URL + query).status_code == 200
    assert operator.get("/www.alpha.test/tls").status_code == 200
    assert records(tenant_a) == []

    for query in ("", "?format=json", "?file=privkey.pem&key_format=pkcs1", "?file=combined.pem", "?file=cert.pfx"):
        password = {"HTTP_X_PFX_PASSWORD": "pw"} if "pfx" in query else {}
        assert operator.get(URL + query, REMOTE_ADDR="192.0.2.7", **password).status_code == 200
    found = records(tenant_a)
    assert [(r.changes["format"], r.changes["key_format"]) for r in found] == [
        ("zip", ""),
        ("json", ""),
        ("privkey.pem", "pkcs1"),
        ("combined.pem", ""),
        ("cert.pfx", ""),
    ]
    for record in found:
        assert (record.actor_id, record.actor_name, record.channel) == (operator.user.pk, operator.user.email, "api")
        assert record.token_prefix == operator.token.prefix and record.ip_address == "192.0.2.7"
        assert (record.object_type, record.object_id) == ("certificate", str(version.certificate_id))
        assert (record.object_name, record.changes["version"]) == ("www.alpha.test", 1)
        assert started <= record.created_at <= timezone.now()


def test_a_refused_download_leaves_no_record_and_no_key(tenant_a, api_client, version):
    viewer = api_client(tenant_a, "viewer")
    response = viewer.get(URL + "?file=privkey.pem")
    assert response.status_code == 403 and b"PRIVATE KEY" not in response.content
    assert records(tenant_a) == []


def test_an_earlier_version_by_number(tenant_a, operator):
    with tenant_context(tenant_a):
        certificate = certificate_make("www.alpha.test", versions=2)
        first = certificate.versions.get(number=1)
    response = operator.get(URL + "?file=privkey.pem&version=1")
    assert response.content.decode() == first.private_key
    assert records(tenant_a)[0].changes["version"] == 1
    assert operator.get(URL + "?version=9").status_code == 404


def test_tls_is_the_full_chain(operator, version):
    response = operator.get("/www.alpha.test/tls")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    assert response.content.decode() == version.fullchain_pem
    assert 'filename="www.alpha.test_fullchain.pem"' in response["Content-Disposition"]


def test_files_are_answered_whatever_the_accept_header(operator, version):
    response = operator.get(URL + "?file=cert.pem", HTTP_ACCEPT="application/x-pem-file")
    assert response.status_code == 200 and response.content.decode() == version.certificate_pem


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?file=key.pem", "file"),
        ("?format=xml", "format"),
        ("?file=cert.pem&key_format=pkcs1", "key_format"),
        ("?key_format=pkcs12", "key_format"),
        ("?file=cert.pem&format=json", "file"),
        ("?file=privkey.pem&password=x", "password"),
        ("?version=0", "version"),
    ],
)
def test_bad_download_parameters_are_field_errors(operator, version, query, field):
    response = operator.get(URL + query)
    assert response.status_code == 400 and field in response.json()["fields"], response.content


def test_a_certificate_without_a_version_has_nothing_to_download(tenant_a, operator):
    with tenant_context(tenant_a):
        certificate_make("www.alpha.test", versions=0)
    assert operator.get(URL).status_code == 404
    assert operator.get("/www.alpha.test/tls").status_code == 404
