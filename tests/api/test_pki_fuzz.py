"""Hostile JSON to every private-CA endpoint: each field of a valid body replaced in turn by a wrong
type, a huge or NUL-bearing string, nested objects, negative or huge numbers, broken PEM (junk after
it, two blocks, DER, base64 alone); odd path parameters; a 1 MB body. Never a 5xx, never a key."""

from __future__ import annotations

import base64

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateProfile
from tests.api.pki_support import hierarchy_a, make_csr

__all__ = ["hierarchy_a"]

pytestmark = pytest.mark.django_db

CSR, _ = make_csr("fuzz-device")
_DER = base64.b64encode(b"\x30\x82\x01\x00" + b"\x00" * 32).decode()
HOSTILE = [
    None, True, -1, 0, 10**30, 1.5, "", " ", "x" * 20000, "a\x00b", "\u202e\ud7ff", {"a": {"b": [1]}}, [["x"]],
    [None], "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", CSR + "junk\x01\x02", CSR + CSR, _DER,
    "-----BEGIN CERTIFICATE REQUEST-----\n" + _DER + "\n-----END CERTIFICATE REQUEST-----\n",
]  # fmt: skip
PEM_FIELDS = {"certificate_pem": "", "private_key_pem": "", "chain_pem": "", "passphrase": "pw"}
BODIES = {
    ("post", "/api/cas"): {"name": "fz", "common_name": "Fz CA", "organization": "Fz", "key_type": "ec256",
                           "root_days": 30, "intermediate_days": 10,
                           "name_constraints": {"permitted_dns": ["fz.test"]}},
    ("post", "/api/cas/import"): {"name": "fzi", **PEM_FIELDS},
    ("post", "/api/cas/external"): {"name": "fze", "common_name": "Fz", "key_type": "ec256",
                                    "name_constraints": {"permitted_ip": ["10.0.0.0/8"]}},
    ("post", "/api/cas/alpha/upload"): {"certificate_pem": "", "chain_pem": ""},
    ("post", "/api/cas/alpha/profiles"): {"name": "fzp", "kind": "client", "key_usage": ["digitalSignature"],
                                          "extended_key_usage": ["clientAuth", "1.2.3.4"], "san_types": ["dns", "uri"],
                                          "name_patterns": {"dns": ["*.fz.test"], "uri": ["spiffe://fz/"]},
                                          "key_types": ["ec256"], "default_key_type": "ec256", "default_days": 5,
                                          "max_days": 10, "allow_server_key": True, "allow_csr": True,
                                          "subject_copy": ["common_name"], "subject_require": ["common_name"]},
    ("patch", "/api/cas/alpha/profiles/client"): {"description": "d", "max_days": 400,
                                                  "name_patterns": {"email": ["@a.test"]}},
    ("post", "/api/certificates"): {"issuer": "alpha", "profile": "client", "kind": "client", "name": "fz-c",
                                    "subject": {"common_name": "fz", "country": "NL"},
                                    "alt_names": ["DNS:fz.alpha.test"], "key_type": "ec256", "days": 5,
                                    "renew_before_days": 2, "usage": "vpn", "notes": "n"},
    ("post", "/api/client-certs/create"): {"common_name": "fz", "email": "fz@alpha.test", "organization": "O",
                                           "organizational_unit": "OU", "cert_usage": "vpn", "days_valid": 5,
                                           "generate_key": False, "csr": CSR, "notes": "n"},
    ("post", "/api/client-certs/batch"): {"headers": ["common_name", "email", "days_valid"],
                                          "rows": [["a", "a@alpha.test", "-5"], ["b\x00", "x", "99999999"]]},
}  # fmt: skip
PATHS = [
    "/api/cas/{}", "/api/cas/{}/certificate", "/api/cas/{}/profiles", "/api/cas/alpha/profiles/{}",
    "/api/client-certs/{}", "/api/client-certs/{}/download/crt", "/api/client-certs/x/download/{}",
]  # fmt: skip
ODD = ["%00", "%2e%2e", "..%2f..%2fetc", "a" * 3000, "%F0%9F%92%A9", "%ff%fe", "1e308", "-1", "99999999999999999999",
       "%20", "a%0Ab", "alpha%00"]  # fmt: skip


def _sound(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"
    assert b"PRIVATE KEY" not in response.content, what


@pytest.fixture
def admin(tenant_a, hierarchy_a, api_client):
    return api_client(tenant_a, "admin")


@pytest.mark.parametrize(("method", "path"), list(BODIES))
def test_each_field_hostile_is_never_a_server_error(admin, method, path):
    base = BODIES[(method, path)]
    _sound(getattr(admin, method)(path, base, format="json"), f"{path} as given")
    for field in base:
        for value in HOSTILE:
            _sound(getattr(admin, method)(path, {**base, field: value}, format="json"), f"{path} {field}={value!r:.40}")
    for body in (None, [], "text", 5, [base], {"": ""}, {"x" * 1000: 1}):
        _sound(getattr(admin, method)(path, body, format="json"), f"{path} body {body!r:.40}")
    huge = {**base, "notes": "n" * 1_000_000}
    _sound(getattr(admin, method)(path, huge, format="json"), f"{path} 1 MB")
    _sound(admin.generic(method.upper(), path, b'{"name": "x", ', content_type="application/json"), "broken JSON")


def test_odd_path_parameters_are_never_a_server_error(admin):
    for template in PATHS:
        for odd in ODD:
            path = template.format(odd)
            for method in ("get", "post", "patch", "delete"):
                _sound(getattr(admin, method)(path, {}, format="json"), f"{method} {path[:80]}")


def test_a_hostile_body_leaves_the_profiles_as_they_were(tenant_a, admin):
    with tenant_context(tenant_a):
        before = list(CertificateProfile.objects.order_by("pk").values())
    for value in HOSTILE:
        admin.patch("/api/cas/alpha/profiles/client", {"name_patterns": value, "key_types": value}, format="json")
    with tenant_context(tenant_a):
        assert list(CertificateProfile.objects.order_by("pk").values()) == before
