"""Downloading private certificates the way a user does, checked with the real openssl: DER, the CA
certificates (ca.pem) for anyone who can see the certificate, PKCS#12 modern and legacy under a
password, and a CSR-signed certificate whose key certmate never had."""

from __future__ import annotations

import pytest
from cryptography import x509
from django_tenants.utils import tenant_context

from certmate.audit.models import AuditEvent
from tests.factories import certificate_make
from tests.pki.conftest import hierarchy_a, hierarchy_b, openssl  # noqa: F401 - fixtures
from tests.private_issued import csr_make, private_issue

CLIENT = "/api/certificates/alice-laptop/download"
CSR_CLIENT = "/api/certificates/bob-phone/download"
SERVER = "/api/certificates/db.alpha.internal/download"
PASSWORD = "corr3ct hörse"


@pytest.fixture
def issued(tenant_a, hierarchy_a):  # noqa: F811 - the fixture imported above
    """alice-laptop (client, server-side key), bob-phone (client, from a CSR), db.alpha.internal (server)."""
    csr, _ = csr_make("bob-phone")
    return {
        "alice": private_issue(tenant_a, ca="alpha", profile="client", name="alice-laptop"),
        "bob": private_issue(tenant_a, ca="alpha", profile="client", name="bob-phone", csr_pem=csr),
        "db": private_issue(
            tenant_a,
            ca="alpha",
            profile="server",
            kind="server",
            name="db.alpha.internal",
            alt_names=["DNS:db.alpha.internal"],
        ),
    }


@pytest.fixture
def operator(tenant_a, api_client):
    return api_client(tenant_a, "operator")


@pytest.fixture
def viewer(tenant_a, api_client):
    return api_client(tenant_a, "viewer")


def version_of(tenant, certificate):
    with tenant_context(tenant):
        version = certificate.versions.get(number=1)
        return version, version.authority.certificate_pem, version.authority.chain_pem


def key_records(tenant) -> list[AuditEvent]:
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(action="private_key.downloaded").order_by("id"))


def pkcs12_info(tmp_path, content: bytes, password: str) -> tuple[int, str]:
    """openssl pkcs12 -info on the file: its exit code and what it printed. A build whose default
    provider lacks 3DES (some FIPS builds) reads the legacy file only with -legacy: tried then."""
    path = tmp_path / "bundle.p12"
    path.write_bytes(content)
    args = ("pkcs12", "-info", "-noout", "-in", str(path), "-passin", f"pass:{password}")
    done = openssl(*args, check=False)
    if done.returncode != 0 and "unsupported" in done.stderr.lower():
        done = openssl(*args, "-legacy", check=False)
    return done.returncode, done.stdout + done.stderr


def test_every_public_format_of_a_private_client_certificate(tmp_path, tenant_a, issued, viewer):
    version, ca_certificate, ca_chain = version_of(tenant_a, issued["alice"])
    answers = {name: viewer.get(f"{CLIENT}/{name}?kind=client") for name in ("cert", "der", "chain", "fullchain", "ca")}
    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(answers, 200)
    assert answers["cert"].content.decode() == version.certificate_pem
    assert answers["chain"].content.decode() == version.chain_pem
    assert answers["fullchain"].content.decode() == version.fullchain_pem
    # ca.pem: the issuing intermediate, then the root; enough for a server to trust alice's certificate.
    assert answers["ca"].content.decode() == ca_certificate + ca_chain
    assert 'filename="alice-laptop_ca.pem"' in answers["ca"]["Content-Disposition"]
    (tmp_path / "ca.pem").write_bytes(answers["ca"].content)
    (tmp_path / "leaf.pem").write_bytes(answers["cert"].content)
    verified = openssl(
        "verify", "-CAfile", str(tmp_path / "ca.pem"), "-purpose", "sslclient", str(tmp_path / "leaf.pem")
    )
    assert verified.stdout.strip().endswith("OK")

    der = answers["der"]
    assert (
        der["Content-Type"] == "application/pkix-cert"
        and 'filename="alice-laptop_cert.der"' in der["Content-Disposition"]
    )
    assert not der.content.startswith(b"-----")
    (tmp_path / "cert.der").write_bytes(der.content)
    as_pem = openssl("x509", "-inform", "DER", "-in", str(tmp_path / "cert.der"), "-outform", "PEM").stdout
    assert as_pem == version.certificate_pem
    assert key_records(tenant_a) == []  # nothing public is recorded


def test_the_query_form_and_a_private_server_certificate(tenant_a, issued, viewer):
    version, ca_certificate, ca_chain = version_of(tenant_a, issued["db"])
    der = viewer.get(SERVER + "?file=cert.der")
    assert x509.load_der_x509_certificate(der.content) == x509.load_pem_x509_certificate(
        version.certificate_pem.encode()
    )
    assert viewer.get(SERVER + "?file=ca.pem").content.decode() == ca_certificate + ca_chain


def test_an_acme_certificates_ca_pem_is_its_chain_and_der_works(tenant_a, viewer):
    with tenant_context(tenant_a):
        version = certificate_make("www.alpha.test").current_version
    assert viewer.get("/api/certificates/www.alpha.test/download/ca").content.decode() == version.chain_pem
    der = viewer.get("/api/certificates/www.alpha.test/download/der").content
    assert x509.load_der_x509_certificate(der) == x509.load_pem_x509_certificate(version.certificate_pem.encode())


def test_pkcs12_modern_by_default_is_aes256_pbes2_and_openssl_reads_it(tmp_path, tenant_a, issued, operator):
    response = operator.post(CLIENT, {"kind": "client", "file": "cert.pfx", "password": PASSWORD}, format="json")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pkcs12"
    code, info = pkcs12_info(tmp_path, response.content, PASSWORD)
    assert code == 0, info
    assert "PBES2, PBKDF2, AES-256-CBC" in info and "PRF hmacWithSHA256" in info and "MAC: sha256" in info
    assert "3DES" not in info and "TripleDES" not in info
    wrong, said = pkcs12_info(tmp_path, response.content, "not the password")
    assert wrong != 0 and "invalid password" in said.lower()
    # What it holds: alice's certificate and the CA chain, and the key that matches them.
    path = tmp_path / "bundle.p12"
    dumped = openssl("pkcs12", "-in", str(path), "-passin", f"pass:{PASSWORD}", "-nodes").stdout
    version, *_ = version_of(tenant_a, issued["alice"])
    assert dumped.count("BEGIN CERTIFICATE") == 3 and "BEGIN PRIVATE KEY" in dumped
    assert version.certificate_pem in dumped
    assert "friendlyName: alice-laptop" in dumped
    record = key_records(tenant_a)[-1]
    assert record.changes["format"] == "cert.pfx" and record.changes["pkcs12_encryption"] == "modern"
    assert PASSWORD not in str(record.changes)


@pytest.mark.parametrize("how", ["legacy=true", "pkcs12_encryption=legacy"])
def test_pkcs12_legacy_is_3des_and_sha1_for_old_importers(tmp_path, tenant_a, issued, operator, how):
    response = operator.get(f"{CLIENT}/pfx?kind=client&{how}", HTTP_X_PFX_PASSWORD=PASSWORD)
    assert response.status_code == 200
    code, info = pkcs12_info(tmp_path, response.content, PASSWORD)
    assert code == 0, info
    assert "pbeWithSHA1And3-KeyTripleDES-CBC" in info and "MAC: sha1" in info and "AES" not in info
    assert pkcs12_info(tmp_path, response.content, PASSWORD + "x")[0] != 0
    assert key_records(tenant_a)[-1].changes["pkcs12_encryption"] == "legacy"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?kind=client&file=cert.pem&legacy=true", "legacy"),
        ("?kind=client&file=ca.pem&pkcs12_encryption=legacy", "pkcs12_encryption"),
        ("?kind=client&file=cert.pfx&pkcs12_encryption=rc2", "pkcs12_encryption"),
        ("?kind=client&file=cert.pfx&pkcs12_encryption=modern&legacy=true", "legacy"),
        ("?kind=robot&file=cert.pem", "kind"),
    ],
)
def test_bad_pkcs12_choices_are_field_errors(tenant_a, issued, operator, query, field):
    response = operator.get(CLIENT + query, HTTP_X_PFX_PASSWORD=PASSWORD if "pfx" in query else "")
    assert response.status_code == 400 and field in response.json()["fields"], response.content


@pytest.mark.parametrize("password", ["", "x" * 1025, "nul\x00cut"])
def test_a_pkcs12_password_is_required_and_bounded(tenant_a, issued, operator, password):
    response = operator.post(CLIENT, {"kind": "client", "file": "cert.pfx", "password": password}, format="json")
    assert response.status_code == 400 and "password" in response.json()["fields"]
    assert key_records(tenant_a) == []


def test_a_viewer_gets_the_ca_certificates_but_never_the_key(tenant_a, issued, viewer):
    assert viewer.get(f"{CLIENT}/ca?kind=client").status_code == 200
    for path in ("/privkey", "/combined", "/pfx", "", "?format=json"):
        url = f"{CLIENT}{path}{'&' if '?' in path else '?'}kind=client"
        response = viewer.get(url, HTTP_X_PFX_PASSWORD=PASSWORD if path == "/pfx" else "")
        assert response.status_code == 403 and b"PRIVATE KEY" not in response.content, url
    assert key_records(tenant_a) == []


def test_the_server_side_key_downloads_and_is_recorded(tenant_a, issued, operator):
    version, *_ = version_of(tenant_a, issued["alice"])
    assert operator.get(f"{CLIENT}/privkey?kind=client").content.decode() == version.private_key
    record = key_records(tenant_a)[-1]
    assert (record.object_name, record.changes["format"]) == ("alice-laptop", "privkey.pem")


@pytest.mark.parametrize(
    "asked",
    ["/privkey?kind=client", "/combined?kind=client", "/pfx?kind=client", "?kind=client", "?kind=client&format=json"],
)
def test_a_csr_signed_certificates_key_is_refused_with_the_reason(tenant_a, issued, operator, asked):
    response = operator.get(CSR_CLIENT + asked, HTTP_X_PFX_PASSWORD=PASSWORD if "pfx" in asked else "")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "no_private_key"
    assert body["error"].startswith("the private key stayed with the requester: ")
    assert key_records(tenant_a) == []


def test_a_csr_signed_certificates_public_files_download(tmp_path, tenant_a, issued, viewer):
    version, ca_certificate, ca_chain = version_of(tenant_a, issued["bob"])
    assert viewer.get(f"{CSR_CLIENT}/cert?kind=client").content.decode() == version.certificate_pem
    assert viewer.get(f"{CSR_CLIENT}/ca?kind=client").content.decode() == ca_certificate + ca_chain
    (tmp_path / "bob.der").write_bytes(viewer.get(f"{CSR_CLIENT}/der?kind=client").content)
    assert (
        "CN = bob-phone"
        in openssl("x509", "-inform", "DER", "-in", str(tmp_path / "bob.der"), "-noout", "-subject").stdout
    )
    public_zip = viewer.get(CSR_CLIENT + "?kind=client&include_private=false")
    assert public_zip.status_code == 200 and public_zip["Content-Type"] == "application/zip"


def test_another_tenant_finds_nothing(tenant_a, tenant_b, issued, hierarchy_b, api_client):  # noqa: F811
    theirs = api_client(tenant_b, "admin")
    for url in (f"{CLIENT}/ca?kind=client", f"{CLIENT}/der?kind=client", f"{CSR_CLIENT}/cert?kind=client",
                SERVER + "?file=ca.pem"):  # fmt: skip
        assert theirs.get(url).status_code == 404, url
    # Nor as a server certificate of the same name.
    assert theirs.get(f"{CLIENT}/ca").status_code in (400, 404)
