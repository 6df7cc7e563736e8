"""A profile's rules hold against a hostile requester (an operator, or a CSR's author): names that only
look allowed, keys of a look-alike curve, a subject that names what the SANs may not."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateProfile
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.profile_services import profile_create
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db


def _profile(name: str, **fields) -> CertificateProfile:
    authority = CertificateProfile.objects.get(authority__name="alpha", name="client").authority
    return profile_create(authority=authority, name=name, actor=TEST_ACTOR, **fields)


def _issue(profile, **fields):
    return private_certificate_issue(PrivateRequest(profile=profile, **fields), actor=TEST_ACTOR)


def _refused(profile, **fields) -> str:
    with pytest.raises(ValidationError) as caught:
        _issue(profile, **fields)
    return " ".join(caught.value.messages)


def test_a_uri_prefix_matches_at_a_boundary_only(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        patterns = {"uri": ["spiffe://example.org", "spiffe://corp.example/ns/prod/"]}
        profile = _profile("spiffe", kind="client", san_types=["uri"], extended_key_usage=["clientAuth"],
                           name_patterns=patterns)  # fmt: skip
        assert "not allowed by profile 'spiffe'" in _refused(profile, alt_names=["URI:spiffe://example.org.evil/x"])
        assert "not allowed" in _refused(profile, alt_names=["URI:spiffe://example.orgx/sa/api"])
        assert "not allowed" in _refused(profile, alt_names=["URI:spiffe://corp.example/ns/prod/../admin/sa/x"])
        assert "not allowed" in _refused(profile, alt_names=["URI:spiffe://corp.example/ns/prod/%2e%2e/admin"])
        assert _issue(profile, alt_names=["URI:spiffe://example.org/ns/prod/sa/api"]).status == "active"
        assert _issue(profile, alt_names=["URI:spiffe://corp.example/ns/prod/sa/web"]).status == "active"


def _csr(key) -> str:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device-7")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize("curve", [ec.SECP256K1, ec.BrainpoolP256R1, ec.BrainpoolP384R1])
def test_a_csr_on_a_look_alike_curve_is_refused(tenant_a, hierarchy_a, curve):
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(authority__name="alpha", name="client")
        message = _refused(profile, csr_pem=_csr(ec.generate_private_key(curve())))
        assert "not allowed by profile 'client'" in message and "key types" in message


def test_a_p256_csr_is_still_signed(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(authority__name="alpha", name="client")
        assert _issue(profile, csr_pem=_csr(ec.generate_private_key(ec.SECP256R1()))).status == "active"


def test_the_subject_cannot_name_what_the_sans_may_not(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        servers = _profile("internal", kind="server", san_types=["dns"], extended_key_usage=["serverAuth"],
                           name_patterns={"dns": ["*.internal.example"]})  # fmt: skip
        message = _refused(servers, kind="server", subject={"common_name": "www.bank.example"})
        assert "'www.bank.example': not allowed by profile 'internal'" in message
        assert "not allowed" in _refused(
            servers, kind="server", subject={"common_name": "www.bank.example"}, alt_names=["DNS:db.internal.example"]
        )
        done = _issue(servers, kind="server", subject={"common_name": "db.internal.example"})
        assert done.subject_fields == {"common_name": "db.internal.example"}
        people = _profile("people", kind="client", san_types=["email"], extended_key_usage=["clientAuth"],
                          name_patterns={"email": ["@alpha.test"]})  # fmt: skip
        assert "'ceo@bank.example': not allowed" in _refused(
            people, subject={"common_name": "Alice", "email": "ceo@bank.example"}
        )
        assert "not allowed" in _refused(people, subject={"common_name": "ceo@bank.example"})
        assert _issue(people, subject={"common_name": "Alice Smith", "email": "alice@alpha.test"}).status == "active"


def test_a_client_certificate_names_no_wildcard(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(authority__name="alpha", name="client")
        assert "wildcard" in _refused(profile, subject={"common_name": "svc"}, alt_names=["DNS:*.alpha.test"])


def test_an_idn_dns_pattern_matches_its_names(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        profile = _profile("idn", kind="server", san_types=["dns"], extended_key_usage=["serverAuth"],
                           name_patterns={"dns": ["*.bücher.example"]})  # fmt: skip
        assert profile.name_patterns == {"dns": ["*.xn--bcher-kva.example"]}
        done = _issue(profile, kind="server", alt_names=["DNS:shop.bücher.example"])
        assert done.alt_names == ["DNS:shop.xn--bcher-kva.example"]
