"""The audit log in the tenant's admin: listed, filtered, searched and opened by admins and operators;
never added, changed or deleted; viewers do not see it; one tenant's admin never shows another's events."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from apps.accounts.services.users import user_create
from certmate.actors import Actor, Channel
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_record
from tests.conftest import PASSWORD, TENANT_A

HOST = {"host": TENANT_A["domain"]}
LIST = "/admin/audit/auditevent/"


def signed_in(client: Client, email: str) -> Client:
    response = client.post("/admin/login/", {"username": email, "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def record(tenant: Tenant, actor: Actor, action: str, name: str, changes=None) -> AuditEvent:
    with tenant_context(tenant):
        return audit_record(
            actor=actor, action=action, object_type="certificate", object_id=7, object_name=name, changes=changes
        )


@pytest.fixture
def events(tenant_a, tenant_b) -> dict[str, AuditEvent]:
    api = Actor(channel=Channel.API, name="dora@alpha.test", ip_address="203.0.113.9", token_prefix="cm_dora")
    admin = Actor(channel=Channel.ADMIN, name="eve@alpha.test")
    change = {"email": ["old@alpha.test", "new@alpha.test"], "eab_hmac_key": "changed"}
    return {
        "requested": record(tenant_a, api, "certificate.requested", "shop.alpha.test", {"key_type": [None, "rsa2048"]}),
        "updated": record(tenant_a, admin, "ca_account.updated", "le-alpha", change),
        "beta": record(tenant_b, Actor.system("renewal sweep"), "certificate.renewed", "secret-project.beta.test"),
    }


@pytest.fixture
def admin(client, tenant_a) -> Client:
    return signed_in(client, TENANT_A["admin_email"])


def user_client(tenant: Tenant, role: str) -> Client:
    with tenant_context(tenant):
        user = user_create(email=f"{role}-audit@alpha.test", password=PASSWORD, role=role)
    return signed_in(Client(), user.email)


def test_the_list_shows_who_did_what_through_which_face(admin, events):
    page = admin.get(LIST, headers=HOST).content.decode()
    for text in ("dora@alpha.test", "certificate.requested", "certificate: shop.alpha.test", "203.0.113.9", "API"):
        assert text in page
    assert "eve@alpha.test" in page and "Admin" in page
    assert "secret-project.beta.test" not in page  # beta's event, in beta's schema
    # The filters and the search box; no bulk actions (not even "delete selected").
    for choice in ("action=ca_account.updated", "channel__exact=api", "object_type=certificate"):
        assert f'href="?{choice}"' in page
    assert f"{events['requested'].created_at:%Y-%m-%d %H:%M:%S}" in page  # to the second (UTC)
    assert 'name="q"' in page
    assert 'name="action"' not in page and "action-checkbox" not in page


def test_filters_and_search(admin, events):
    by_action = admin.get(LIST, {"action": "ca_account.updated"}, headers=HOST).content.decode()
    assert "le-alpha" in by_action and "shop.alpha.test" not in by_action
    by_channel = admin.get(LIST, {"channel__exact": "api"}, headers=HOST).content.decode()
    assert "shop.alpha.test" in by_channel and "le-alpha" not in by_channel
    by_actor = admin.get(LIST, {"q": "DORA@alpha"}, headers=HOST).content.decode()
    assert "shop.alpha.test" in by_actor and "le-alpha" not in by_actor
    by_object = admin.get(LIST, {"q": "le-alpha"}, headers=HOST).content.decode()
    assert "eve@alpha.test" in by_object and "dora@alpha.test" not in by_object
    assert "0 results" in admin.get(LIST, {"q": "secret-project"}, headers=HOST).content.decode()


def test_the_detail_page_shows_the_changes_and_saves_nothing(admin, events):
    event = events["updated"]
    url = f"{LIST}{event.pk}/change/"
    page = admin.get(url, headers=HOST).content.decode()
    assert "old@alpha.test" in page and "new@alpha.test" in page
    assert "(secret, changed)" in page and "eab_hmac_key" in page
    assert event.hash in page and event.prev_hash in page
    assert 'name="_save"' not in page and "<textarea" not in page

    assert admin.post(url, {"action": "forged.action"}, headers=HOST).status_code == 403
    assert admin.get(f"{LIST}add/", headers=HOST).status_code == 403
    assert admin.post(f"{url.removesuffix('change/')}delete/", {"post": "yes"}, headers=HOST).status_code == 403
    with tenant_context(Tenant.objects.get(schema_name="alpha")):
        assert AuditEvent.objects.get(pk=event.pk).action == "ca_account.updated"


def test_another_tenants_event_is_not_found_here(admin, events):
    with tenant_context(Tenant.objects.get(schema_name="alpha")):
        taken = set(AuditEvent.objects.values_list("pk", flat=True))
    missing = max(taken) + 1000
    response = admin.get(f"{LIST}{missing}/change/", headers=HOST)
    assert response.status_code == 302  # the admin's "does not exist" redirect to its index
    assert "secret-project" not in admin.get(response.url, headers=HOST).content.decode()


def test_operators_read_it_and_viewers_do_not(tenant_a, events):
    operator = user_client(tenant_a, "operator")
    assert "shop.alpha.test" in operator.get(LIST, headers=HOST).content.decode()
    assert operator.get(f"{LIST}{events['updated'].pk}/change/", headers=HOST).status_code == 200
    assert operator.get(f"{LIST}add/", headers=HOST).status_code == 403
    assert "Audit log" in operator.get("/admin/", headers=HOST).content.decode()

    viewer = user_client(tenant_a, "viewer")
    assert viewer.get(LIST, headers=HOST).status_code == 403
    assert "Audit log" not in viewer.get("/admin/", headers=HOST).content.decode()
