"""Private CAs and profiles in the portal: a hierarchy created through the service, its public
certificate and CRL linked on the tenant's own host, state changes with the service's refusals, and
profiles changed through the admin's form with errors at the field; every write audited as portal."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority, CertificateProfile
from certmate.audit.models import AuditEvent
from tests.portal.conftest import browser


@pytest.fixture
def admin(tenant_a, signed_in):
    return signed_in(tenant_a, "admin")


def make_hierarchy(admin, name="alpha"):
    return admin.post("/cas/add/", {"name": name, "common_name": "Alpha CA", "organization": "Alpha",
                                    "key_type": "ec256", "root_days": "3650", "intermediate_days": "1825"})  # fmt: skip


def test_an_admin_creates_a_hierarchy_and_lands_on_its_intermediate(tenant_a, admin):
    response = make_hierarchy(admin)
    with tenant_context(tenant_a):
        intermediate = CertificateAuthority.objects.get(name="alpha")
        assert intermediate.parent.name == "alpha-root"
        assert AuditEvent.objects.filter(object_type="certificate_authority", channel="portal").exists()
        assert not AuditEvent.objects.exclude(channel="portal").filter(object_type="certificate_authority").exists()
    assert response["Location"] == f"/cas/{intermediate.pk}/"
    page = admin.get(response["Location"]).content.decode()
    assert "Created the hierarchy" in page
    for name in ("server", "client", "server-and-client"):
        assert f">{name}</a>" in page
    listing = admin.get("/cas/").content.decode()
    assert "alpha-root" in listing and "Active" in listing and "days left" in listing


def test_the_public_downloads_are_linked_on_the_tenants_own_host_and_served(tenant_a, admin):
    make_hierarchy(admin)
    with tenant_context(tenant_a):
        intermediate = CertificateAuthority.objects.get(name="alpha")
    page = admin.get(f"/cas/{intermediate.pk}/").content.decode()
    for path in ("/pki/alpha/ca.pem", "/pki/alpha/ca.der", "/pki/alpha/crl.pem", "/pki/alpha/crl.der"):
        assert f'href="{path}"' in page
    anonymous = browser(tenant_a)
    assert b"BEGIN CERTIFICATE" in anonymous.get("/pki/alpha/ca.pem").content
    assert anonymous.get("/pki/alpha/crl.der").status_code == 200


def test_a_taken_name_is_said_at_the_name_field(tenant_a, admin):
    make_hierarchy(admin)
    response = make_hierarchy(admin)
    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["name"])


def test_disable_enable_retire_through_the_service_and_retired_is_final(tenant_a, admin):
    make_hierarchy(admin)
    with tenant_context(tenant_a):
        ca = CertificateAuthority.objects.get(name="alpha")
    assert admin.post(f"/cas/{ca.pk}/disable/")["Location"] == f"/cas/{ca.pk}/"
    page = admin.get(f"/cas/{ca.pk}/").content.decode()
    assert "disabled: it issues nothing until enabled" in page
    assert f'action="/cas/{ca.pk}/enable/"' in page and f'action="/cas/{ca.pk}/disable/"' not in page
    admin.post(f"/cas/{ca.pk}/retire/")
    refused = admin.post(f"/cas/{ca.pk}/enable/", follow=True).content.decode()
    assert "retired: that is final" in refused
    with tenant_context(tenant_a):
        ca.refresh_from_db()
        assert ca.state == "retired"
        events = AuditEvent.objects.filter(action="certificate_authority.state_changed")
        assert [e.channel for e in events] == ["portal", "portal"]  # disabled, retired; the refusal records nothing
    assert admin.post(f"/cas/{ca.pk}/explode/").status_code == 404


def test_make_default(tenant_a, admin):
    make_hierarchy(admin)
    with tenant_context(tenant_a):
        ca = CertificateAuthority.objects.get(name="alpha")
    admin.post(f"/cas/{ca.pk}/default/")
    with tenant_context(tenant_a):
        assert CertificateAuthority.objects.get(is_default=True) == ca


def test_a_profile_is_changed_through_the_admins_form_with_errors_at_the_field(tenant_a, admin):
    make_hierarchy(admin)
    with tenant_context(tenant_a):
        ca = CertificateAuthority.objects.get(name="alpha")
        profile = ca.profiles.get(name="server")
    url = f"/cas/{ca.pk}/profiles/{profile.pk}/"
    form = admin.get(url).context["form"]
    assert "authority" not in form.fields and "name" not in form.fields  # fixed once made
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(default_days="30", max_days="90", patterns_dns="*.internal.alpha.example")
    data = {k: v for k, v in data.items() if not isinstance(v, list)}
    for name in ("key_usage", "extended_key_usage", "san_types"):
        data[name] = getattr(profile, name)
    response = admin.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(tenant_a):
        profile.refresh_from_db()
        assert (profile.default_days, profile.max_days) == (30, 90)
        assert profile.name_patterns == {"dns": ["*.internal.alpha.example"]}
        assert AuditEvent.objects.filter(object_type="certificate_profile", channel="portal").exists()
    data.update(default_days="900", max_days="90")
    bad = admin.post(url, data)
    assert bad.status_code == 200 and bad.context["form"].errors


def test_a_profile_is_added_to_a_ca_and_deleted(tenant_a, admin):
    make_hierarchy(admin)
    with tenant_context(tenant_a):
        ca = CertificateAuthority.objects.get(name="alpha")
    response = admin.post(f"/cas/{ca.pk}/profiles/add/", {"name": "vpn", "kind": "client", "default_days": "30",
                          "max_days": "60", "key_usage": ["digitalSignature"], "extended_key_usage": ["clientAuth"],
                          "default_key_type": "ec256", "allow_csr": "on"})  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(tenant_a):
        vpn = CertificateProfile.objects.get(authority=ca, name="vpn")
    admin.post(f"/cas/{ca.pk}/profiles/{vpn.pk}/delete/")
    with tenant_context(tenant_a):
        assert not CertificateProfile.objects.filter(pk=vpn.pk).exists()
