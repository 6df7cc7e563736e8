"""CA and DNS accounts in the portal: preset CAs by name, EAB, typed DNS credential fields from the
provider registry, secrets write-only (never on any page, kept when left empty), the services' refusals
at the field, deletes through the service, and every write in the audit log on the portal channel."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import CaAccount, DnsAccount
from certmate.audit.models import AuditEvent
from tests.factories import certificate_make

EAB_SECRET = "c2VjcmV0LWhtYWMta2V5LW9mLWFscGhh"  # base64url, as CAs hand them out
DNS_SECRET = "c2VjcmV0LW9mLWJpbmQtYWxwaGE="
PAGES = ("/accounts/", "/accounts/ca/add/", "/accounts/dns/add/", "/audit/", "/settings/")


@pytest.fixture
def admin(tenant_a, signed_in):
    return signed_in(tenant_a, "admin")


def ca_form(**given) -> dict:
    return {"name": "alpha-zerossl", "preset": "zerossl", "directory_url": "", "email": "ops@alpha.example",
            "eab_kid": "kid-alpha", "eab_hmac_key": EAB_SECRET, "trust_bundle": "", **given}  # fmt: skip


def dns_form(**given) -> dict:
    return {"name": "bind", "provider": "rfc2136", "rfc2136__nameserver": "127.0.0.1", "rfc2136__tsig_key": "certmate",
            "rfc2136__tsig_secret": DNS_SECRET, "credentials_json": "", **given}  # fmt: skip


def test_a_ca_account_is_added_by_the_cas_name_with_eab(tenant_a, admin):
    page = admin.get("/accounts/ca/add/").content.decode()
    assert '<option value="zerossl">ZeroSSL</option>' in page and "Let&#x27;s Encrypt" in page
    assert 'type="password" name="eab_hmac_key"' in page
    response = admin.post("/accounts/ca/add/", ca_form())
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    with tenant_context(tenant_a):
        account = CaAccount.objects.get(name="alpha-zerossl")
        assert account.directory_url == "https://acme.zerossl.com/v2/DV90"
        assert (account.eab_kid, account.eab_hmac_key) == ("kid-alpha", EAB_SECRET)
        event = AuditEvent.objects.get(action="ca_account.created")
    assert (event.channel, event.actor_name) == ("portal", admin.user.email)
    listing = admin.get("/accounts/").content.decode()
    assert "alpha-zerossl" in listing and "ZeroSSL" in listing and "kid-alpha" in listing


def test_a_custom_directory_url_and_a_trust_bundle(tenant_a, admin):
    url = "https://acme.internal.example/directory"
    form = ca_form(name="internal", preset="", eab_kid="", eab_hmac_key="", directory_url=url, trust_bundle="PEM…")
    response = admin.post("/accounts/ca/add/", form)
    assert response.status_code == 302
    with tenant_context(tenant_a):
        account = CaAccount.objects.get(name="internal")
    assert account.directory_url == "https://acme.internal.example/directory"
    assert account.trust_bundle == "PEM…"


def test_the_services_refusals_show_at_the_field(tenant_a, admin):
    admin.post("/accounts/ca/add/", ca_form())
    taken = admin.post("/accounts/ca/add/", ca_form(eab_kid="", eab_hmac_key=""))
    assert taken.status_code == 200
    assert "already exists" in " ".join(taken.context["form"].errors["name"])
    assert "field--invalid" in taken.content.decode()
    half = admin.post("/accounts/ca/add/", ca_form(name="other", eab_hmac_key=""))
    assert "together" in " ".join(half.context["form"].errors["eab_hmac_key"])
    both = admin.post("/accounts/ca/add/", ca_form(name="x", directory_url="https://acme.example/dir"))
    assert "not both" in " ".join(both.context["form"].errors["directory_url"])
    plain_http = admin.post("/accounts/ca/add/", ca_form(name="y", preset="", directory_url="http://acme.example/d"))
    assert plain_http.context["form"].errors["directory_url"]
    with tenant_context(tenant_a):
        assert CaAccount.objects.count() == 1


def test_an_eab_key_left_empty_on_a_change_keeps_the_stored_one(tenant_a, admin):
    admin.post("/accounts/ca/add/", ca_form())
    with tenant_context(tenant_a):
        account = CaAccount.objects.get()
    page = admin.get(f"/accounts/ca/{account.pk}/").content.decode()
    assert EAB_SECRET not in page and 'value="kid-alpha"' in page
    response = admin.post(f"/accounts/ca/{account.pk}/", ca_form(eab_hmac_key="", email="new@alpha.example"))
    assert response.status_code == 302
    with tenant_context(tenant_a):
        account.refresh_from_db()
    assert (account.email, account.eab_hmac_key) == ("new@alpha.example", EAB_SECRET)


def test_a_dns_account_has_one_typed_field_per_credential_of_each_provider(admin):
    page = admin.get("/accounts/dns/add/?provider=route53").content.decode()
    assert '<fieldset class="dns-provider dns-provider-route53">' in page
    assert '<label for="id_route53__access_key_id">Access key ID</label>' in page
    assert 'type="password" name="route53__secret_access_key"' in page  # a secret
    assert 'type="text" name="route53__region"' in page  # not one
    assert "Optional." in page and "Required." in page  # from the registry, with its help
    assert '<option value="route53" selected>' in page
    assert "/static/certificates/dns_account.js" in page  # shows the chosen provider's fields only


def test_a_dns_accounts_secret_is_stored_never_shown_and_kept_when_left_empty(tenant_a, admin):
    response = admin.post("/accounts/dns/add/", dns_form())
    assert response.status_code == 302
    with tenant_context(tenant_a):
        account = DnsAccount.objects.get(name="bind")
    assert account.credentials == {"nameserver": "127.0.0.1", "tsig_key": "certmate", "tsig_secret": DNS_SECRET}
    page = admin.get(f"/accounts/dns/{account.pk}/").content.decode()
    assert DNS_SECRET not in page
    assert 'value="127.0.0.1"' in page  # not a secret: shown to be changed
    assert "nameserver, tsig_key, tsig_secret" in page  # what is stored, by name
    admin.post(f"/accounts/dns/{account.pk}/", dns_form(rfc2136__tsig_secret="", rfc2136__port="5353"))
    with tenant_context(tenant_a):
        account.refresh_from_db()
        assert account.credentials["tsig_secret"] == DNS_SECRET
        assert account.credentials["port"] == "5353"
        channels = set(AuditEvent.objects.filter(object_type="dns_account").values_list("channel", flat=True))
    assert channels == {"portal"}


def test_a_missing_credential_is_said_at_its_field_and_typed_secrets_are_not_shown_back(tenant_a, admin):
    extra = '{"X": "' + DNS_SECRET + '"}'
    response = admin.post("/accounts/dns/add/", dns_form(rfc2136__tsig_key="", credentials_json=extra))
    assert response.status_code == 200
    assert response.context["form"].errors["rfc2136__tsig_key"]
    assert DNS_SECRET not in response.content.decode()
    with tenant_context(tenant_a):
        assert not DnsAccount.objects.exists()


def test_secrets_never_appear_on_any_page(tenant_a, admin, signed_in):
    admin.post("/accounts/ca/add/", ca_form())
    admin.post("/accounts/dns/add/", dns_form())
    with tenant_context(tenant_a):
        ca, dns = CaAccount.objects.get(), DnsAccount.objects.get()
    paths = [*PAGES, f"/accounts/ca/{ca.pk}/", f"/accounts/dns/{dns.pk}/", f"/accounts/dns/{dns.pk}/delete/"]
    for client in (admin, signed_in(tenant_a, "viewer"), signed_in(tenant_a, "operator")):
        for path in paths:
            page = client.get(path).content.decode()
            assert EAB_SECRET not in page and DNS_SECRET not in page, path


def test_an_account_in_use_is_not_deleted_and_the_page_says_why(tenant_a, admin):
    with tenant_context(tenant_a):
        certificate = certificate_make("www.alpha.example")
        ca, dns = certificate.ca_account, certificate.dns_account
        spare = DnsAccount.objects.create(name="spare", provider="digitalocean", credentials={"api_token": "t"})
    confirm = admin.get(f"/accounts/ca/{ca.pk}/delete/").content.decode()
    assert f"Delete CA account <strong>{ca.name}</strong>?" in confirm
    refused = admin.post(f"/accounts/ca/{ca.pk}/delete/", follow=True).content.decode()
    assert "was not deleted" in refused and "used by 1 certificate" in refused
    admin.post(f"/accounts/dns/{spare.pk}/delete/")
    with tenant_context(tenant_a):
        assert CaAccount.objects.filter(pk=ca.pk).exists() and DnsAccount.objects.filter(pk=dns.pk).exists()
        assert not DnsAccount.objects.filter(pk=spare.pk).exists()
        assert AuditEvent.objects.get(action="dns_account.deleted").channel == "portal"


def test_an_unknown_account_is_the_portals_404(admin):
    assert admin.get("/accounts/ca/999999/").status_code == 404
    assert admin.post("/accounts/dns/999999/delete/").status_code == 404


def test_a_dns_accounts_propagation_check_and_nameservers_are_set_in_the_form(tenant_a, admin):
    page = admin.get("/accounts/dns/add/").content.decode()
    assert 'name="propagation_check"' in page and 'name="check_nameservers"' in page
    refused = admin.post("/accounts/dns/add/", dns_form(check_nameservers="ns1.example.com"))
    assert refused.status_code == 200
    assert "is not an IP address" in str(refused.context["form"].errors["check_nameservers"])
    saved = admin.post(
        "/accounts/dns/add/", dns_form(propagation_check="fixed", check_nameservers="127.0.0.1:5353, ::1")
    )
    assert saved.status_code == 302
    with tenant_context(tenant_a):
        account = DnsAccount.objects.get(name="bind")
    assert (account.propagation_check, account.check_nameservers) == ("fixed", ["127.0.0.1:5353", "::1"])
    assert "(fixed wait)" in admin.get("/accounts/").content.decode()
    admin.post(f"/accounts/dns/{account.pk}/", dns_form(rfc2136__tsig_secret=""))  # a form without the fields
    with tenant_context(tenant_a):
        account.refresh_from_db()
    assert (account.propagation_check, account.check_nameservers) == ("fixed", [])
