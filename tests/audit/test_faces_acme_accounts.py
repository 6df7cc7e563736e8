"""CA accounts, DNS accounts and tenant settings changed through the API and through the tenant admin, by
the same tenant admin: the same change has the same outcome. A valid change leaves the same row and one
audit event each (channel api or admin, same action, object name and changes; secrets only as
"changed"); a refused change is refused for the same reason through both, and changes and records nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import transaction
from django.test import Client
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import CaAccount, DnsAccount, TenantSettings
from certmate.audit.models import AuditEvent
from tests.conftest import TENANT_A
from tests.factories import TEST_ACTOR, certificate_make

HOST = {"host": TENANT_A["domain"]}
DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory"
HMAC = "aGVsbG8taGVsbG8taGVsbG8taGVsbG8"  # base64url, 24 bytes
RFC2136 = {"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2VjcmV0LXNlY3JldA"}


@dataclass(frozen=True)
class Outcome:
    changed: bool
    reasons: list[str]  # why the change was refused, as the face says it
    rows: list[dict]  # the rows afterwards
    events: list[dict]  # the audit events the change recorded


def api_answer(response) -> tuple[bool, list[str]]:
    if response.status_code in (200, 201, 204):
        return True, []
    answer = response.json()
    assert response.status_code in (400, 409), answer
    return False, [m for messages in answer.get("fields", {}).values() for m in messages] or [answer["error"]]


def admin_answer(response) -> tuple[bool, list[str]]:
    if response.status_code == 302:
        return True, []
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors, "the admin neither saved nor said why"
    return False, [m for messages in errors.values() for m in messages]


def outcome(client: Client, face, rows) -> Outcome:
    """What ``face(client)`` does, undone afterwards (a savepoint) so the other face starts alike."""
    with tenant_context(client.tenant):
        last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    savepoint = transaction.savepoint()
    try:
        changed, reasons = face(client)
        with tenant_context(client.tenant):
            events = list(
                AuditEvent.objects.filter(id__gt=last_event)
                .order_by("id")
                .values("action", "object_type", "object_name", "changes", "channel", "actor_name")
            )
            return Outcome(changed, reasons, rows(), events)
    finally:
        transaction.savepoint_rollback(savepoint)


def both(client: Client, through_api, through_admin, rows) -> tuple[Outcome, Outcome]:
    api, admin = outcome(client, through_api, rows), outcome(client, through_admin, rows)
    assert [e["channel"] for e in api.events] == ["api"] * len(api.events)
    assert [e["channel"] for e in admin.events] == ["admin"] * len(admin.events)
    for seen in (api, admin):
        assert all(e["actor_name"] == TENANT_A["admin_email"] for e in seen.events)
    return api, admin


def comparable(seen: Outcome):
    return seen.changed, seen.reasons, seen.rows, [{k: v for k, v in e.items() if k != "channel"} for e in seen.events]


def ca_rows() -> list[dict]:
    fields = ("name", "directory_url", "email", "eab_kid", "eab_hmac_key", "trust_bundle", "is_default")
    return [{f: getattr(a, f) for f in fields} for a in CaAccount.objects.order_by("name")]


def dns_rows() -> list[dict]:
    fields = ("name", "provider", "credentials", "propagation_seconds", "is_default")
    return [{f: getattr(a, f) for f in fields} for a in DnsAccount.objects.order_by("provider", "name")]


def settings_row() -> list[dict]:
    fields = ("contact_email", "default_ca_account_id", "default_key_type", "renewal_threshold_days")
    settings = TenantSettings.load()
    return [{f: getattr(settings, f) for f in fields}]


def ca_form(**values) -> dict:
    form = {"name": "", "directory_url": DIRECTORY, "email": "", "eab_kid": "", "eab_hmac_key": ""}
    return {**form, "trust_bundle": "", **values}


def test_a_new_ca_account_is_the_same_row_and_event_through_both_faces(admin):
    body = {"name": "digicert", "email": "pki@alpha.test", "eab_kid": "kid-7", "eab_hmac_key": HMAC}

    def through_api(client):
        payload = json.dumps({**body, "directory_url": DIRECTORY})
        return api_answer(client.post("/api/ca-accounts", payload, content_type="application/json", headers=HOST))

    def through_admin(client):
        return admin_answer(client.post("/admin/certificates/caaccount/add/", ca_form(**body), headers=HOST))

    api, through_the_admin = both(admin, through_api, through_admin, ca_rows)
    for seen in (api, through_the_admin):
        assert seen.changed and seen.rows[0]["eab_hmac_key"] == HMAC
        [event] = seen.events
        assert event["action"] == "ca_account.created" and event["object_name"] == "digicert"
        assert event["changes"]["eab_hmac_key"] == "changed" and event["changes"]["eab_kid"] == [None, "kid-7"]
        assert HMAC not in json.dumps(event)
    assert comparable(api) == comparable(through_the_admin)


def test_changing_a_ca_account_keeps_its_key_and_records_what_changed_through_both_faces(admin):
    with tenant_context(admin.tenant):
        account = ca_account_create(
            actor=TEST_ACTOR,
            name="digicert",
            directory=DIRECTORY,
            email="pki@alpha.test",
            eab_kid="k",
            eab_hmac_key=HMAC,
        )
    change = {"name": "digicert-eu", "email": "ops@alpha.test"}

    def through_api(client):
        payload = json.dumps(change)
        path = f"/api/ca-accounts/{account.pk}"
        return api_answer(client.patch(path, payload, content_type="application/json", headers=HOST))

    def through_admin(client):
        form = ca_form(eab_kid="k", **change)  # the key left empty: kept
        return admin_answer(client.post(f"/admin/certificates/caaccount/{account.pk}/change/", form, headers=HOST))

    api, through_the_admin = both(admin, through_api, through_admin, ca_rows)
    for seen in (api, through_the_admin):
        assert seen.changed and seen.rows[0]["eab_hmac_key"] == HMAC
        [event] = seen.events
        assert event["action"] == "ca_account.updated"
        assert event["changes"] == {"name": ["digicert", "digicert-eu"], "email": ["pki@alpha.test", "ops@alpha.test"]}
    assert comparable(api) == comparable(through_the_admin)


def test_an_eab_key_id_without_its_key_is_refused_alike_and_records_nothing(admin):
    body = {"name": "half", "email": "pki@alpha.test", "eab_kid": "kid-7"}

    def through_api(client):
        payload = json.dumps({**body, "directory_url": DIRECTORY})
        return api_answer(client.post("/api/ca-accounts", payload, content_type="application/json", headers=HOST))

    def through_admin(client):
        return admin_answer(client.post("/admin/certificates/caaccount/add/", ca_form(**body), headers=HOST))

    api, through_the_admin = both(admin, through_api, through_admin, ca_rows)
    for seen in (api, through_the_admin):
        assert not seen.changed and seen.rows == [] and seen.events == []
        assert seen.reasons == ["give the EAB key id and HMAC key together"]


def test_deleting_a_ca_account_is_refused_alike_while_in_use_and_recorded_alike_when_not(admin):
    with tenant_context(admin.tenant):
        used = certificate_make("used.alpha.test", versions=0).ca_account
        spare = ca_account_create(actor=TEST_ACTOR, name="spare", directory=DIRECTORY, email="pki@alpha.test")

    def deleting(account):
        def through_api(client):
            return api_answer(client.delete(f"/api/ca-accounts/{account.pk}", headers=HOST))

        def through_admin(client):
            path = f"/admin/certificates/caaccount/{account.pk}/delete/"
            response = client.post(path, {"post": "yes"}, headers=HOST, follow=True)
            shown = [str(m) for m in response.context["messages"]]
            refused = [m.split(": ", 1)[1] for m in shown if m.startswith(f"{account.name}: ")]
            return not refused, refused

        return through_api, through_admin

    api, through_the_admin = both(admin, *deleting(used), ca_rows)
    for seen in (api, through_the_admin):
        assert not seen.changed and seen.events == [] and len(seen.rows) == 2
        assert seen.reasons == ["CA account 'le' is used by 1 certificate(s): move them to another account first"]

    api, through_the_admin = both(admin, *deleting(spare), ca_rows)
    for seen in (api, through_the_admin):
        assert seen.changed and [row["name"] for row in seen.rows] == ["le"]
        [event] = seen.events
        assert event["action"] == "ca_account.deleted" and event["object_name"] == "spare"
    assert comparable(api) == comparable(through_the_admin)


def test_a_new_dns_account_is_the_same_row_and_event_through_both_faces(admin):
    def through_api(client):
        payload = json.dumps({"name": "bind", "provider": "rfc2136", "credentials": RFC2136})
        return api_answer(client.post("/api/dns-accounts", payload, content_type="application/json", headers=HOST))

    def through_admin(client):
        form = {"name": "bind", "provider": "rfc2136", "credentials_json": json.dumps(RFC2136)}
        return admin_answer(client.post("/admin/certificates/dnsaccount/add/", form, headers=HOST))

    api, through_the_admin = both(admin, through_api, through_admin, dns_rows)
    for seen in (api, through_the_admin):
        assert seen.changed and seen.rows[0]["credentials"]["tsig_secret"] == RFC2136["tsig_secret"]
        [event] = seen.events
        assert event["action"] == "dns_account.created" and event["object_name"] == "rfc2136:bind"
        assert event["changes"]["credentials"] == "changed" and event["changes"]["is_default"] == [None, True]
        assert RFC2136["tsig_secret"] not in json.dumps(event)
    assert comparable(api) == comparable(through_the_admin)


def test_changing_a_dns_accounts_credentials_is_recorded_as_changed_only_through_both_faces(admin):
    with tenant_context(admin.tenant):
        account = dns_account_create(actor=TEST_ACTOR, name="bind", provider="rfc2136", credentials=RFC2136)
    new = {**RFC2136, "tsig_secret": "bmV3LXNlY3JldC1uZXc"}

    def through_api(client):
        payload = json.dumps({"credentials": new, "propagation_seconds": 30})
        path = f"/api/dns-accounts/{account.pk}"
        return api_answer(client.patch(path, payload, content_type="application/json", headers=HOST))

    def through_admin(client):
        form = {
            "name": "bind",
            "provider": "rfc2136",
            "propagation_seconds": "30",
            "is_default": "on",
            "credentials_json": json.dumps(new),
        }
        return admin_answer(client.post(f"/admin/certificates/dnsaccount/{account.pk}/change/", form, headers=HOST))

    api, through_the_admin = both(admin, through_api, through_admin, dns_rows)
    for seen in (api, through_the_admin):
        assert seen.changed and seen.rows[0]["credentials"] == new
        [event] = seen.events
        assert event["changes"] == {"credentials": "changed", "propagation_seconds": [None, 30]}
        assert new["tsig_secret"] not in json.dumps(event) and RFC2136["tsig_secret"] not in json.dumps(event)
    assert comparable(api) == comparable(through_the_admin)


def test_tenant_settings_are_the_same_change_through_both_faces(admin):
    with tenant_context(admin.tenant):
        account = ca_account_create(actor=TEST_ACTOR, name="digicert", directory=DIRECTORY, email="pki@alpha.test")
        before = TenantSettings.load()

    def through_api(client):
        change = {"default_ca_account": "digicert", "renewal_threshold_days": 21, "default_key_type": "rsa4096"}
        payload = json.dumps(change)
        return api_answer(client.patch("/api/settings", payload, content_type="application/json", headers=HOST))

    def through_admin(client):
        form = {
            "contact_email": before.contact_email,
            "default_ca_account": str(account.pk),
            "default_dns_account": "",
            "default_key_type": "rsa4096",
            "auto_renew_default": "on" if before.auto_renew_default else "",
            "renewal_threshold_days": "21",
            "expiry_warning_days": ",".join(map(str, before.expiry_warning_days)),  # as the form shows them
        }
        path = f"/admin/certificates/tenantsettings/{before.pk}/change/"
        return admin_answer(client.post(path, form, headers=HOST))

    api, through_the_admin = both(admin, through_api, through_admin, settings_row)
    for seen in (api, through_the_admin):
        assert seen.changed
        expected = {"default_ca_account_id": account.pk, "renewal_threshold_days": 21, "default_key_type": "rsa4096"}
        assert seen.rows == [{**settings_row_of(before), **expected}]
        [event] = seen.events
        assert event["action"] == "tenant_settings.updated"
        assert event["changes"] == {
            "default_ca_account": [None, "digicert"],
            "default_key_type": [before.default_key_type, "rsa4096"],
            "renewal_threshold_days": [before.renewal_threshold_days, 21],
        }
    assert comparable(api) == comparable(through_the_admin)


def settings_row_of(settings: TenantSettings) -> dict:
    fields = ("contact_email", "default_ca_account_id", "default_key_type", "renewal_threshold_days")
    return {f: getattr(settings, f) for f in fields}
