"""Revoking in the tenant admin: a certificate's current version and chosen versions (a reason form
first), a hold lifted, an intermediate CA revoked — each through the revocation services (the CRL
signed, audit events on channel admin), refusals as messages; operators revoke certificates, only
admins CAs, viewers nothing."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.services.users import user_create
from apps.certificates.models import CertificateAuthority, CertificateVersion
from apps.certificates.pki.crl import crl_current
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.certificates.test_admin_pki import CAS, HOST, _hierarchy, admin_client, sign_in
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import certificate_make
from tests.pki.revocation_support import issue

pytestmark = pytest.mark.django_db
__all__ = ["admin_client"]  # the fixture

CERTIFICATES = "/admin/certificates/certificate/"
VERSIONS = "/admin/certificates/certificateversion/"


@pytest.fixture
def alpha(tenant_a):
    return _hierarchy(tenant_a, "alpha")


def _signed_in_as(client, tenant, role: str):
    with tenant_context(tenant):
        user_create(email=f"{role}@alpha.test", password=PASSWORD, role=role, actor=Actor.command())
    return sign_in(client, f"{role}@alpha.test", HOST)


def _act(client, path: str, action: str, pks: list[int], **form):
    body = {"action": action, "_selected_action": pks, **form}
    return client.post(path, body, headers=HOST, follow=bool(form))


def test_revoke_a_certificate_with_a_reason_form(admin_client, tenant_a, alpha):
    with tenant_context(tenant_a):
        version = issue("alice-laptop")
    page = _act(admin_client, CERTIFICATES, "revoke_current", [version.certificate_id])
    shown = page.content.decode()
    assert page.status_code == 200 and "alice-laptop" in shown and 'name="reason"' in shown
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.get(pk=version.pk).revoked_at is None  # the form first, nothing yet
    wrong = _act(admin_client, CERTIFICATES, "revoke_current", [version.certificate_id], reason="bogus", apply="1")
    assert wrong.context["form"].errors
    done = _act(admin_client, CERTIFICATES, "revoke_current", [version.certificate_id], reason="keycompromise",
                invalidity_date=version.not_before.strftime("%Y-%m-%d %H:%M:%S"), apply="1")  # fmt: skip
    assert "revoked (keycompromise)" in done.content.decode()
    with tenant_context(tenant_a):
        revoked = CertificateVersion.objects.get(pk=version.pk)
        event = AuditEvent.objects.get(action="certificate.revoked")
        assert crl_current(alpha[1]).entries == 1
    assert (revoked.revocation_reason, revoked.invalidity_date) == ("keycompromise", version.not_before)
    assert (event.channel, event.actor_name) == ("admin", TENANT_A["admin_email"])


def test_hold_a_version_then_lift_it_and_acme_is_refused_by_message(admin_client, tenant_a, alpha):
    with tenant_context(tenant_a):
        version = issue("kiosk")
        acme = certificate_make("shop.alpha.test").current_version
    held = _act(admin_client, VERSIONS, "revoke_versions", [version.pk, acme.pk], reason="certificatehold", apply="1")
    text = held.content.decode()
    assert "revoked (certificatehold)" in text and "was issued through ACME" in text
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.get(pk=version.pk).revocation_reason == "certificatehold"
        assert CertificateVersion.objects.get(pk=acme.pk).revoked_at is None
    lifted = _act(admin_client, VERSIONS, "unhold_versions", [version.pk])
    assert lifted.status_code == 302
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.get(pk=version.pk).revoked_at is None
        assert crl_current(alpha[1]).entries == 0


def test_revoke_an_intermediate_not_a_root(admin_client, tenant_a, alpha):
    root, intermediate = alpha
    done = _act(admin_client, CAS, "revoke_authorities", [root.pk, intermediate.pk], reason="superseded", apply="1")
    text = done.content.decode()
    assert "cannot be revoked here: it is a root" in text and "Alpha: revoked (superseded)" in text
    with tenant_context(tenant_a):
        revoked = CertificateAuthority.objects.get(pk=intermediate.pk)
        assert (revoked.state, revoked.revocation_reason) == ("retired", "superseded")
        assert crl_current(root).entries == 1 and CertificateAuthority.objects.get(pk=root.pk).revoked_at is None
    page = admin_client.get(f"{CAS}{intermediate.pk}/change/", headers=HOST).content.decode()
    assert "superseded" in page and "PRIVATE KEY" not in page


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("operator", True)])
def test_operators_revoke_certificates_viewers_do_not(client, tenant_a, alpha, role, allowed):
    with tenant_context(tenant_a):
        version = issue("bob")
    signed_in = _signed_in_as(client, tenant_a, role)
    _act(signed_in, CERTIFICATES, "revoke_current", [version.certificate_id], reason="superseded", apply="1")
    with tenant_context(tenant_a):
        assert (CertificateVersion.objects.get(pk=version.pk).revoked_at is not None) is allowed
    assert _act(signed_in, CAS, "revoke_authorities", [alpha[1].pk], reason="superseded", apply="1").status_code == 403
    with tenant_context(tenant_a):
        assert CertificateAuthority.objects.get(pk=alpha[1].pk).revoked_at is None
