"""The tenant's public base URL for its PKI (behind a proxy): set through the settings API, checked,
audited, and carried by the certificates its CAs sign from then on."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateProfile
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.services.settings import tenant_settings_update
from certmate.audit.models import AuditEvent
from tests.api.pki_support import hierarchy_a
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl

__all__ = ["hierarchy_a"]
pytestmark = pytest.mark.django_db


def test_an_admin_sets_it_and_new_certificates_carry_it(tenant_a, hierarchy_a, api_client):
    admin = api_client(tenant_a, "admin")
    response = admin.patch("/api/settings", {"public_base_url": "https://pki.alpha.test/base"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["public_base_url"] == "https://pki.alpha.test/base"
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(authority__name="alpha", name="client")
        version = private_certificate_issue(PrivateRequest(profile=profile, subject={"common_name": "x"}, name="x"),
                                            actor=TEST_ACTOR).current_version  # fmt: skip
        event = AuditEvent.objects.filter(action="tenant_settings.updated").latest("id")
        assert event.changes["public_base_url"] == ["", "https://pki.alpha.test/base"]
    text = openssl("x509", "-noout", "-text", input_text=version.certificate_pem).stdout
    assert "URI:https://pki.alpha.test/base/pki/alpha/crl.der" in text
    assert "OCSP - URI:https://pki.alpha.test/base/pki/ocsp" in text


@pytest.mark.parametrize(
    "value",
    ["ftp://pki.alpha.test", "https://user:pw@pki.alpha.test", "https://pki.alpha.test/?q=1", "https://pki.alpha.test/#x",
     "not a url", "https://" + "a" * 250 + ".test", "javascript:alert(1)"],
)  # fmt: skip
def test_bad_base_urls_are_refused(tenant_a, api_client, value):
    admin = api_client(tenant_a, "admin")
    response = admin.patch("/api/settings", {"public_base_url": value}, format="json")
    assert response.status_code == 400, response.content
    assert "public_base_url" in response.json().get("fields", {})


def test_the_renewal_threshold_is_bounded_on_every_face(tenant_a):
    with tenant_context(tenant_a), pytest.raises(ValidationError):
        tenant_settings_update(renewal_threshold_days=0, actor=TEST_ACTOR)


def test_viewers_and_operators_cannot_set_it(tenant_a, api_client):
    for role in ("viewer", "operator"):
        response = api_client(tenant_a, role).patch(
            "/api/settings", {"public_base_url": "https://x.test"}, format="json"
        )
        assert response.status_code == 403
