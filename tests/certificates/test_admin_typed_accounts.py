"""DNS accounts in the tenant admin take one typed field per credential of the chosen provider (from the
provider registry), CA accounts offer the well-known CAs by name, and API tokens are shown once: no
secret typed in ever comes back on a page, and each change is an audit event of channel "admin"."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken, User
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.acme.providers import PROVIDERS
from apps.certificates.models import CA_PRESETS, CaAccount, DnsAccount
from certmate.audit.models import AuditEvent
from tests.certificates.test_admin_complete import HOST, signed_in
from tests.conftest import TENANT_A
from tests.factories import TEST_ACTOR

DNS_ADD = "/admin/certificates/dnsaccount/add/"
CA_ADD = "/admin/certificates/caaccount/add/"
TSIG = "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cw=="
HMAC = "aGVsbG8taGVsbG8taGVsbG8taGVsbG8"


@pytest.fixture
def admin(client, tenant_a) -> Client:
    return signed_in(client, TENANT_A["admin_email"])


def bind(**typed) -> dict:
    fields = {"nameserver": "127.0.0.1", "tsig_key": "certmate", "tsig_secret": TSIG, **typed}
    return {"name": "bind", "provider": "rfc2136", **{f"rfc2136__{k}": v for k, v in fields.items() if v is not None}}


def stored(tenant, name: str = "bind") -> DnsAccount:
    with tenant_context(tenant):
        return DnsAccount.objects.get(name=name)


def test_each_provider_credential_is_a_labelled_field_secrets_as_password_inputs(admin):
    page = admin.get(DNS_ADD, headers=HOST)
    form = page.context["adminform"].form
    html = page.content.decode()
    for provider in PROVIDERS.values():
        assert f"{provider.label} credentials" in html
        for field in provider.fields:
            bound = form[f"{provider.key}__{field.name}"]
            assert bound.label == field.label
            assert ('type="password"' in str(bound)) is (field.secret and not field.multiline)
    ovh = form["ovh__endpoint"]
    assert "Default: ovh-eu." in ovh.help_text and 'placeholder="ovh-eu"' in str(ovh)
    assert form["rfc2136__tsig_algorithm"].help_text.startswith("Optional.")
    assert form["rfc2136__tsig_key"].help_text.startswith("Required.")
    assert "certificates/dns_account.js" in html


def test_typed_credentials_are_validated_per_provider_at_their_field(admin, tenant_a):
    response = admin.post(DNS_ADD, bind(tsig_key=None), headers=HOST)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["rfc2136__tsig_key"] == ["rfc2136: tsig_key is required"]
    assert TSIG not in response.content.decode()  # the typed secret does not come back
    bad_port = admin.post(DNS_ADD, bind(port="dns"), headers=HOST)
    assert "port has an invalid format" in bad_port.context["adminform"].form.errors["rfc2136__port"][0]
    # Another provider's fields do not count for this one.
    wrong = {"name": "do", "provider": "digitalocean", "rfc2136__tsig_secret": TSIG}
    errors = admin.post(DNS_ADD, wrong, headers=HOST).context["adminform"].form.errors
    assert errors["digitalocean__api_token"] == ["digitalocean: api_token is required"]
    with tenant_context(tenant_a):
        assert not DnsAccount.objects.exists() and not AuditEvent.objects.filter(action__startswith="dns_").exists()


def test_a_dns_account_saved_from_typed_fields_keeps_its_secret_unshown(admin, tenant_a):
    response = admin.post(DNS_ADD, bind(tsig_algorithm="HMAC-SHA256"), headers=HOST)
    assert response.status_code == 302, response.content.decode()[:3000]
    account = stored(tenant_a)
    assert account.credentials == {"nameserver": "127.0.0.1", "tsig_key": "certmate", "tsig_secret": TSIG,
                                   "tsig_algorithm": "HMAC-SHA256"}  # fmt: skip
    with tenant_context(tenant_a):
        event = AuditEvent.objects.get(action="dns_account.created")
    assert event.channel == "admin" and TSIG not in str(event.changes)
    change = f"/admin/certificates/dnsaccount/{account.pk}/change/"
    page = admin.get(change, headers=HOST)
    assert TSIG not in page.content.decode()
    assert page.context["adminform"].form["rfc2136__tsig_key"].value() == "certmate"  # not secret: shown
    # Saved again without typing the secret: it stays; a changed plain field is saved.
    form = {**bind(tsig_secret="", tsig_key="renamed"), "propagation_seconds": "30"}
    assert admin.post(change, form, headers=HOST).status_code == 302
    account = stored(tenant_a)
    assert account.credentials["tsig_secret"] == TSIG and account.credentials["tsig_key"] == "renamed"
    assert "tsig_algorithm" not in account.credentials  # an optional field cleared is gone


def test_a_new_provider_never_inherits_the_old_ones_secrets(admin, tenant_a):
    with tenant_context(tenant_a):
        account = dns_account_create(
            actor=TEST_ACTOR, name="bind", provider="rfc2136",
            credentials={"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": TSIG},
        )  # fmt: skip
    change = f"/admin/certificates/dnsaccount/{account.pk}/change/"
    moved = admin.post(change, {"name": "bind", "provider": "digitalocean"}, headers=HOST)
    assert "needs the credentials given again" in moved.content.decode()
    assert stored(tenant_a).provider == "rfc2136"


def test_lego_variables_go_in_the_more_keys_box(admin, tenant_a):
    form = {"name": "nc", "provider": "multi", "multi__provider": "namecheap",
            "credentials_json": '{"NAMECHEAP_API_USER": "ops", "NAMECHEAP_API_KEY": "k-123456"}'}  # fmt: skip
    response = admin.post(DNS_ADD, form, headers=HOST)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert stored(tenant_a, "nc").credentials["NAMECHEAP_API_KEY"] == "k-123456"


# --- CA accounts: presets by name --------------------------------------------------------------------


def test_a_ca_account_names_its_ca_from_the_presets(admin, tenant_a):
    page = admin.get(CA_ADD, headers=HOST)
    form = page.context["adminform"].form
    assert dict(form.fields["preset"].choices)["google"] == "Google Trust Services"
    fields = [name for fieldset in page.context["adminform"] for line in fieldset for name in line.fields]
    assert fields.index("preset") == fields.index("directory_url") - 1
    created = admin.post(CA_ADD, {"name": "gts", "preset": "google", "directory_url": "", "email": "pki@alpha.test",
                                  "eab_kid": "kid-1", "eab_hmac_key": HMAC}, headers=HOST)  # fmt: skip
    assert created.status_code == 302, created.content.decode()[:3000]
    with tenant_context(tenant_a):
        account = CaAccount.objects.get(name="gts")
        assert AuditEvent.objects.get(action="ca_account.created").channel == "admin"
    assert account.directory_url == CA_PRESETS["google"][1]
    change = admin.get(f"/admin/certificates/caaccount/{account.pk}/change/", headers=HOST)
    assert change.context["adminform"].form["preset"].value() == "google" and HMAC not in change.content.decode()


@pytest.mark.parametrize(
    ("preset", "url", "message"),
    [
        ("", "", "choose a CA from the list or type its directory URL"),
        ("zerossl", "https://acme.example.net/directory", "not both"),
    ],
)
def test_a_ca_account_needs_one_directory(admin, tenant_a, preset, url, message):
    form = {"name": "x", "preset": preset, "directory_url": url, "email": "pki@alpha.test", "eab_kid": "kid-1",
            "eab_hmac_key": HMAC}  # fmt: skip
    response = admin.post(CA_ADD, form, headers=HOST)
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["directory_url"][0]
    assert HMAC not in response.content.decode()
    with tenant_context(tenant_a):
        assert not CaAccount.objects.exists()


# --- API tokens: shown once --------------------------------------------------------------------------


def test_an_api_token_is_shown_once_and_never_again(admin: Client, tenant_a):
    with tenant_context(tenant_a):
        me = User.objects.get(email=TENANT_A["admin_email"])
    created = admin.post("/admin/accounts/apitoken/add/", {"user": me.pk, "role": "operator", "name": "ci"},
                         headers=HOST)  # fmt: skip
    assert created.status_code == 200
    raw = created.context["token"].raw_token
    assert raw in created.content.decode() and "shown this once" in created.content.decode()
    with tenant_context(tenant_a):
        token = ApiToken.objects.get(name="ci")
        assert AuditEvent.objects.get(action="token.created").channel == "admin"
    for path in ("/admin/accounts/apitoken/", f"/admin/accounts/apitoken/{token.pk}/change/"):
        shown = admin.get(path, headers=HOST).content.decode()
        assert token.prefix in shown and raw not in shown
    answer = Client().get("/api/certificates", headers={**HOST, "Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200
