"""The private CA in the tenant admin: a hierarchy made, a profile edited, certificates issued, all
through the services (refusals at the form, audit events on channel admin); the private keys never on
a page; CAs and profiles for tenant admins only; one tenant's CAs not the other's."""

from __future__ import annotations

import re

import pytest
from cryptography import x509
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateAuthority, CertificateProfile, CertificateVersion
from apps.certificates.pki.services import ca_hierarchy_create
from certmate.audit.models import AuditEvent
from tests.audit.admin_forms import admin_change
from tests.conftest import PASSWORD, TENANT_A, TENANT_B
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl
from tests.pki.test_issuing import make_csr

HOST = {"host": TENANT_A["domain"]}
CAS = "/admin/certificates/certificateauthority/"
PROFILES = "/admin/certificates/certificateprofile/"
ISSUE = "/admin/certificates/certificate/issue-private/"
HIERARCHY = {
    "name": "corp", "common_name": "Corp Issuing CA", "organization": "Corp", "key_type": "ec256",
    "root_days": "3650", "intermediate_days": "1000", "permitted_dns": ".internal.example\ncorp.example\n",
    "excluded_ip": "10.9.0.0/16",
}  # fmt: skip


def sign_in(client, email: str, host: dict):
    assert client.post("/admin/login/", {"username": email, "password": PASSWORD}, headers=host).status_code == 302
    return client


def _hierarchy(tenant, name: str):
    with tenant_context(tenant):
        return ca_hierarchy_create(name=name, common_name=f"{name.title()} CA", key_type="ec256", actor=TEST_ACTOR)


@pytest.fixture
def admin_client(client, tenant_a):
    return sign_in(client, TENANT_A["admin_email"], HOST)


@pytest.fixture
def hierarchy_a(tenant_a):
    return _hierarchy(tenant_a, "alpha")


@pytest.fixture
def hierarchy_b(tenant_b):
    return _hierarchy(tenant_b, "beta")


def profile_path(tenant, ca: str, name: str) -> str:
    with tenant_context(tenant):
        return f"{PROFILES}{CertificateProfile.objects.get(authority__name=ca, name=name).pk}/change/"


def form_errors(response) -> str:
    """The errors a form page shows, as text (the form's own and its fields')."""
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form if "adminform" in response.context else response.context["form"]
    assert form.errors, "the page neither saved nor said why"
    return " ".join(m for messages in form.errors.values() for m in messages)


def issue(client, tenant, **fields):
    with tenant_context(tenant):
        profile = CertificateProfile.objects.get(authority__name="alpha", name=fields.pop("profile", "client"))
    return client.post(ISSUE, {"profile": profile.pk, "kind": "client", **fields}, headers=HOST)


def test_an_admin_creates_a_hierarchy_with_name_constraints(admin_client, tenant_a, tmp_path):
    response = admin_client.post(f"{CAS}add/", HIERARCHY, headers=HOST)
    assert response.status_code == 302, form_errors(response)
    with tenant_context(tenant_a):
        corp = CertificateAuthority.objects.get(name="corp")
        root = corp.parent
        assert (root.name, root.origin, corp.origin, corp.key_type) == ("corp-root", "root", "intermediate", "ec256")
        assert sorted(corp.profiles.values_list("name", flat=True)) == ["client", "server", "server-and-client"]
        events = list(AuditEvent.objects.filter(action__startswith="certificate_").values("action", "channel",
                                                                                          "actor_name"))  # fmt: skip
    assert {e["action"] for e in events} == {"certificate_authority.created", "certificate_profile.created"}
    assert {(e["channel"], e["actor_name"]) for e in events} == {("admin", TENANT_A["admin_email"])}
    (tmp_path / "root.pem").write_text(root.certificate_pem)
    (tmp_path / "corp.pem").write_text(corp.certificate_pem)
    assert "OK" in openssl("verify", "-CAfile", str(tmp_path / "root.pem"), str(tmp_path / "corp.pem")).stdout
    text = openssl("x509", "-in", str(tmp_path / "corp.pem"), "-noout", "-text").stdout
    assert "DNS:.internal.example" in text and "DNS:corp.example" in text
    assert re.search(r"Excluded:\s+IP:10\.9\.0\.0/255\.255\.0\.0", text), text
    # The CA's page shows its certificate, read-only.
    page = admin_client.get(f"{CAS}{corp.pk}/change/", headers=HOST).content.decode()
    assert corp.certificate_pem.splitlines()[1] in page and 'name="_save"' not in page


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"name": "alpha"}, "already exists"),
        ({"permitted_dns": "not a name!"}, "is not a valid dns constraint"),
        ({"intermediate_days": "9999"}, "out of range"),
        ({"root_days": "abc"}, "Enter a whole number"),
    ],
)
def test_a_refused_hierarchy_is_a_form_error(admin_client, tenant_a, hierarchy_a, changes, said):
    response = admin_client.post(f"{CAS}add/", {**HIERARCHY, **changes}, headers=HOST)
    assert said in form_errors(response)
    with tenant_context(tenant_a):
        assert not CertificateAuthority.objects.filter(name="corp").exists()


def test_an_admin_edits_a_profile_with_typed_fields(admin_client, tenant_a, hierarchy_a):
    path = profile_path(tenant_a, "alpha", "server")
    page = admin_client.get(path, headers=HOST).content.decode()
    assert 'type="checkbox" name="key_usage" value="digitalSignature"' in page
    response = admin_change(
        admin_client, path, HOST, patterns_dns="*.internal.example\nportal.alpha.test", patterns_ip="10.0.0.0/8",
        custom_ekus="1.3.6.1.4.1.99999.1", key_types=["ec256", "ec384"], subject_require=["common_name"],
        max_days="400",
    )  # fmt: skip
    assert response.status_code == 302, form_errors(response)
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(authority__name="alpha", name="server")
        assert profile.name_patterns == {"dns": ["*.internal.example", "portal.alpha.test"], "ip": ["10.0.0.0/8"]}
        assert profile.extended_key_usage == ["serverAuth", "1.3.6.1.4.1.99999.1"]
        assert (profile.key_types, profile.subject_require, profile.max_days) == (["ec256", "ec384"],
                                                                                 ["common_name"], 400)  # fmt: skip
        event = AuditEvent.objects.get(action="certificate_profile.updated")
        assert (event.channel, event.actor_name) == ("admin", TENANT_A["admin_email"])
        assert event.changes["max_days"] == [825, 400]
    # What was saved is what the page shows again.
    page = admin_client.get(path, headers=HOST).content.decode()
    assert "*.internal.example\nportal.alpha.test" in page and "1.3.6.1.4.1.99999.1" in page


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"patterns_dns": "*.*.bad..example"}, "is not a valid dns pattern"),
        ({"patterns_uri": "no scheme here"}, "is not a valid uri pattern"),
        ({"custom_ekus": "1.2.x"}, "nor a dotted OID"),
        ({"default_days": "900", "max_days": "800"}, "must not exceed max_days"),
        ({"allow_server_key": False, "allow_csr": False}, "allow server-side keys, CSRs, or both"),
        ({"key_usage": ["signEverything"]}, "Select a valid choice"),
    ],
)
def test_a_bad_profile_is_a_form_error_and_changes_nothing(admin_client, tenant_a, hierarchy_a, changes, said):
    with tenant_context(tenant_a):
        before = list(CertificateProfile.objects.filter(name="server").values())
    response = admin_change(admin_client, profile_path(tenant_a, "alpha", "server"), HOST, **changes)
    assert said in form_errors(response)
    with tenant_context(tenant_a):
        assert list(CertificateProfile.objects.filter(name="server").values()) == before
        assert not AuditEvent.objects.filter(action="certificate_profile.updated").exists()


def test_an_admin_adds_and_deletes_a_profile(admin_client, tenant_a, hierarchy_a):
    _root, alpha = hierarchy_a
    page = admin_client.get(f"{PROFILES}add/", headers=HOST)
    assert f'value="{alpha.pk}"' in page.content.decode()
    assert f'value="{_root.pk}"' not in page.content.decode(), "a root made here issues no leaves"
    form = {
        "authority": alpha.pk, "name": "devices", "description": "IoT", "kind": "client",
        "key_usage": ["digitalSignature"], "extended_key_usage": ["clientAuth"], "san_types": ["uri"],
        "patterns_uri": "spiffe://alpha.test/device/", "default_key_type": "ec256", "default_days": "90",
        "max_days": "365", "allow_server_key": "on", "allow_csr": "on",
    }  # fmt: skip
    response = admin_client.post(f"{PROFILES}add/", form, headers=HOST)
    assert response.status_code == 302, form_errors(response)
    assert "already has a profile named" in form_errors(admin_client.post(f"{PROFILES}add/", form, headers=HOST))
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(name="devices")
        assert profile.name_patterns == {"uri": ["spiffe://alpha.test/device/"]}
    response = admin_client.post(f"{PROFILES}{profile.pk}/delete/", {"post": "yes"}, headers=HOST)
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert not CertificateProfile.objects.filter(name="devices").exists()
        assert AuditEvent.objects.get(action="certificate_profile.deleted").channel == "admin"


def test_an_admin_issues_a_client_certificate(admin_client, tenant_a, hierarchy_a, tmp_path):
    response = issue(admin_client, tenant_a, name="alice-laptop", common_name="alice", organization="Alpha",
                     alt_names="email:alice@alpha.test\nURI:spiffe://alpha.test/alice", days="30")  # fmt: skip
    assert response.status_code == 302, form_errors(response)
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="alice-laptop")
        version = certificate.current_version
        events = list(
            AuditEvent.objects.filter(object_name="alice-laptop").order_by("id").values_list("action", "channel")
        )
    assert response["Location"].endswith(f"/admin/certificates/certificate/{certificate.pk}/change/")
    assert (certificate.kind, certificate.authority.name, certificate.profile.name) == ("client", "alpha", "client")
    assert events == [("certificate.requested", "admin"), ("certificate.issued", "admin")]
    (tmp_path / "leaf.pem").write_text(version.certificate_pem)
    text = openssl("x509", "-in", str(tmp_path / "leaf.pem"), "-noout", "-text").stdout
    assert "TLS Web Client Authentication" in text and "email:alice@alpha.test" in text
    assert "URI:spiffe://alpha.test/alice" in text and re.search(r"Subject: .*CN ?= ?alice", text)
    # Its page: the CA and profile it came from, its names; only its renewal settings are editable.
    page = admin_client.get(response["Location"], headers=HOST)
    assert set(page.context["adminform"].form.fields) == {"auto_renew", "renew_before_days"}
    assert "spiffe://alpha.test/alice" in page.content.decode()


def test_a_certificate_from_a_pasted_csr(admin_client, tenant_a, hierarchy_a):
    csr_pem, _key = make_csr("build-agent", [x509.DNSName("agent.alpha.test")])
    response = issue(admin_client, tenant_a, name="agent", csr_pem=csr_pem)
    assert response.status_code == 302, form_errors(response)
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="agent")
        assert certificate.csr_pem and certificate.current_version.private_key == ""
    bad = issue(admin_client, tenant_a, name="agent2", csr_pem="-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n")
    assert "CSR" in form_errors(bad)


def test_a_forbidden_name_is_refused_at_the_form_with_the_profiles_words(admin_client, tenant_a, hierarchy_a):
    response = admin_change(admin_client, profile_path(tenant_a, "alpha", "server"), HOST,
                            patterns_dns="*.internal.example")  # fmt: skip
    assert response.status_code == 302
    refused = issue(admin_client, tenant_a, profile="server", kind="server", alt_names="db.other.example")
    said = form_errors(refused)
    assert "'db.other.example': not allowed by profile 'server'" in said and "*.internal.example" in said
    assert "db.other.example" in refused.content.decode(), "what was typed is shown back to correct"
    with tenant_context(tenant_a):
        assert not Certificate.objects.exists() and not CertificateVersion.objects.exists()
    # The same rule holds for a pasted CSR: the names it asks for are held to the profile too.
    csr_pem, _key = make_csr("db", [x509.DNSName("db.other.example")])
    refused = issue(admin_client, tenant_a, profile="server", kind="server", csr_pem=csr_pem)
    assert "'db.other.example': not allowed by profile 'server'" in form_errors(refused)
    allowed = issue(admin_client, tenant_a, profile="server", kind="server", alt_names="db.internal.example")
    assert allowed.status_code == 302, form_errors(allowed)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"days": "5000"}, "less than or equal to 3650"),
        ({"alt_names": "DNS:" + "a" * 300}, "is longer than 253 characters"),
        ({"name": "a/b", "common_name": "x"}, "use 1 to 128 letters"),
        ({"kind": "root"}, "Select a valid choice"),
        ({"profile": "999999"}, "Select a valid choice"),
        ({"key_type": "ec256", "common_name": "x\x00y"}, "Null characters are not allowed"),
        ({"key_type": "ec256", "common_name": "x\x07y"}, "must be printable text"),
        ({"common_name": "x", "csr_pem": "A" * 70_000}, "at most 65536 characters"),
    ],
)
def test_bad_issue_input_is_a_form_error_never_a_500(admin_client, tenant_a, hierarchy_a, fields, said):
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(authority__name="alpha", name="client")
    response = admin_client.post(ISSUE, {"profile": profile.pk, "kind": "client", **fields}, headers=HOST)
    assert said in form_errors(response)


def test_private_keys_never_appear_on_an_admin_page(admin_client, tenant_a, hierarchy_a):
    root, alpha = hierarchy_a
    assert issue(admin_client, tenant_a, name="bob", common_name="bob").status_code == 302
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="bob")
        version = certificate.current_version
        profile = CertificateProfile.objects.get(authority=alpha, name="client")
        keys = [root.private_key, alpha.private_key, version.private_key]
    pages = [
        CAS, f"{CAS}{root.pk}/change/", f"{CAS}{alpha.pk}/change/", f"{CAS}add/", PROFILES,
        f"{PROFILES}{profile.pk}/change/", "/admin/certificates/certificate/", ISSUE,
        f"/admin/certificates/certificate/{certificate.pk}/change/", "/admin/certificates/certificateversion/",
        f"/admin/certificates/certificateversion/{version.pk}/change/", "/admin/audit/auditevent/",
    ]  # fmt: skip
    bodies = [line for key in keys for line in key.splitlines()[1:-1]]
    assert len(bodies) >= 6
    for path in pages:
        response = admin_client.get(path, headers=HOST)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "PRIVATE KEY" not in html, path
        assert not [body for body in bodies if body in html], path


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_tenant_admins_reach_cas_and_profiles(client, tenant_a, hierarchy_a, role):
    from apps.accounts.services.users import user_create
    from certmate.actors import Actor

    _root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        user_create(email=f"{role}@alpha.test", password=PASSWORD, role=role, actor=Actor.command())
        profile = CertificateProfile.objects.get(authority=alpha, name="client")
    sign_in(client, f"{role}@alpha.test", HOST)
    for path in (CAS, f"{CAS}add/", f"{CAS}{alpha.pk}/change/", f"{CAS}import/", f"{CAS}external/",
                 f"{CAS}{alpha.pk}/csr/", PROFILES, f"{PROFILES}add/", f"{PROFILES}{profile.pk}/change/"):  # fmt: skip
        assert client.get(path, headers=HOST).status_code == 403, path
    assert client.post(f"{CAS}add/", HIERARCHY, headers=HOST).status_code == 403
    assert client.post(f"{PROFILES}{profile.pk}/change/", {"max_days": "1"}, headers=HOST).status_code == 403
    index = client.get("/admin/", headers=HOST).content.decode()
    assert "certificateauthority" not in index and "certificateprofile" not in index
    # Issuing is for operators (as through the API); a viewer only looks.
    page = client.get(ISSUE, headers=HOST)
    assert page.status_code == (200 if role == "operator" else 403)
    response = client.post(ISSUE, {"profile": profile.pk, "kind": "client", "name": "op-cert", "common_name": "op"},
                           headers=HOST)  # fmt: skip
    assert response.status_code == (302 if role == "operator" else 403)
    with tenant_context(tenant_a):
        assert Certificate.objects.filter(identifier="op-cert").exists() is (role == "operator")
        assert CertificateProfile.objects.get(pk=profile.pk).max_days == 3650
        assert not CertificateAuthority.objects.filter(name="corp").exists()


def test_one_tenants_cas_are_not_the_others(client, tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    _root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        # An id tenant B's schema does not have (each schema numbers its rows on its own).
        alpha_profile = CertificateProfile.objects.get(authority=alpha, name="client")
        CertificateProfile.objects.filter(pk=alpha_profile.pk).update(id=10**6)
    beta = {"host": TENANT_B["domain"]}
    sign_in(client, TENANT_B["admin_email"], beta)
    listing = client.get(CAS, headers=beta).content.decode()
    assert "beta-root" in listing and "alpha" not in listing
    assert "alpha" not in client.get(PROFILES, headers=beta).content.decode()
    for path in (f"{CAS}{alpha.pk}/change/", f"{PROFILES}{10**6}/change/"):
        response = client.get(path, headers=beta, follow=True)
        assert response.status_code == 200 and "Alpha CA" not in response.content.decode()
    assert "Perhaps it was deleted" in response.content.decode()
    # Nor can tenant B issue from tenant A's profile by its id.
    response = client.post(ISSUE, {"profile": 10**6, "kind": "client", "name": "stolen", "common_name": "x"},
                           headers=beta)  # fmt: skip
    assert "Select a valid choice" in form_errors(response)
    with tenant_context(tenant_b):
        assert not Certificate.objects.filter(identifier="stolen").exists()


def test_a_pending_intermediates_page_offers_its_csr_and_the_upload(admin_client, tenant_a, hierarchy_a, tmp_path):
    csr_pem, _key = make_csr("Partner Issuing", [x509.DNSName("partner.alpha.test")])
    _root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        # A stand-in for what ca_external_create leaves (ca-lifecycle's service): a key, a CSR, no certificate.
        CertificateAuthority.objects.filter(pk=alpha.pk).update(state="pending", csr_pem=csr_pem, certificate_pem="")
    listing = admin_client.get(CAS, headers=HOST).content.decode()
    for link in (f"{CAS}add/", f"{CAS}import/", f"{CAS}external/"):
        assert f'href="{link}"' in listing
    page = admin_client.get(f"{CAS}{alpha.pk}/change/", headers=HOST).content.decode()
    assert f"{CAS}{alpha.pk}/csr/" in page and f"{CAS}{alpha.pk}/upload/" in page and csr_pem.splitlines()[1] in page
    download = admin_client.get(f"{CAS}{alpha.pk}/csr/", headers=HOST)
    assert download["Content-Disposition"] == 'attachment; filename="alpha.csr"'
    (tmp_path / "alpha.csr").write_bytes(download.content)
    assert "verify OK" in openssl("req", "-in", str(tmp_path / "alpha.csr"), "-noout", "-verify").stderr
    upload = f"{CAS}{alpha.pk}/upload/"
    forms = {f"{CAS}import/": "private_key_pem", f"{CAS}external/": "common_name", upload: "chain_pem"}
    for path, field in forms.items():
        form = admin_client.get(path, headers=HOST)
        assert form.status_code == 200 and f'name="{field}"' in form.content.decode(), path
    assert admin_client.get(f"{CAS}{_root.pk}/upload/", headers=HOST).status_code == 404, "not pending"
    assert admin_client.get(f"{CAS}{_root.pk}/csr/", headers=HOST).status_code == 404, "no CSR"
