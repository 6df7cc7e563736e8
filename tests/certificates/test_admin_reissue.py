"""Bulk reissue in the tenant admin: the certificate list's action asks whether to revoke and why, then
makes one bulk reissue of the selected certificates (audited on channel admin) and shows it; the bulk
reissue's page shows its progress and an item per certificate, read-only. Only admins may ask; another
tenant's admin sees none of it."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.services.users import user_create
from apps.certificates.models import BulkReissue, ReissueItemStatus
from apps.certificates.services.reissue_advance import bulk_reissue_advance
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.certificates.reissue_support import estate, item_of, renewal_fails
from tests.certificates.test_admin_pki import HOST, admin_client, sign_in
from tests.conftest import PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db
__all__ = ["admin_client"]  # the fixture

CERTIFICATES = "/admin/certificates/certificate/"
BULK = "/admin/certificates/bulkreissue/"


def _act(client, pks: list[int], **form):
    body = {"action": "reissue_selected", "_selected_action": pks, **form}
    return client.post(CERTIFICATES, body, headers=HOST)


def test_reissue_the_selected_with_a_reason_then_follow_it(admin_client, tenant_a):
    with tenant_context(tenant_a):
        made = estate()
    picked = [made["shop"].pk, made["mail"].pk]
    page = _act(admin_client, picked)
    shown = page.content.decode()
    assert page.status_code == 200 and 'name="reason"' in shown and 'name="revoke_old"' in shown
    assert "shop.alpha.test" in shown and "mail.alpha.test" in shown
    with tenant_context(tenant_a):
        assert not BulkReissue.objects.exists()  # the form first, nothing yet

    done = _act(admin_client, picked, revoke_old="on", reason="keycompromise")
    with tenant_context(tenant_a):
        bulk = BulkReissue.objects.get()
        assert done.status_code == 302 and done["Location"] == f"{BULK}{bulk.pk}/change/"
        assert (bulk.total, bulk.revoke_old, bulk.reason, bulk.selector) == (2, True, "keycompromise", {"ids": picked})
        event = AuditEvent.objects.get(action="bulk_reissue.requested")
        assert (event.channel, event.actor_name) == ("admin", TENANT_A["admin_email"])
        bulk_reissue_advance(bulk_id=bulk.pk)
        renewal_fails(item_of(made["mail"]), "mail.alpha.test: DNS problem: SERVFAIL")
        bulk_reissue_advance(bulk_id=bulk.pk)
        assert item_of(made["shop"]).status == ReissueItemStatus.RENEWING

    detail = admin_client.get(f"{BULK}{bulk.pk}/change/", headers=HOST).content.decode()
    assert "1 of 2 finished: 0 renewed, 0 revoked, 1 failed" in detail
    assert "DNS problem: SERVFAIL" in detail and "renewal job" in detail
    assert 'name="_save"' not in detail  # read-only
    listing = admin_client.get(BULK, headers=HOST).content.decode()
    assert "1 of 2 finished" in listing


def test_without_revoking_and_refusals_are_messages(admin_client, tenant_a):
    with tenant_context(tenant_a):
        made = estate()
        unissued = made["shop"].__class__.objects.create(identifier="new.alpha.test")
    done = _act(admin_client, [made["api"].pk], reason="unspecified")  # revoke_old left unticked
    assert done.status_code == 302
    with tenant_context(tenant_a):
        assert BulkReissue.objects.get().revoke_old is False and BulkReissue.objects.get().reason == ""
    refused = admin_client.post(
        CERTIFICATES, {"action": "reissue_selected", "_selected_action": [unissued.pk], "reason": "superseded"},
        headers=HOST, follow=True,
    )  # fmt: skip
    assert "new.alpha.test (id" in refused.content.decode() and "leave them out" in refused.content.decode()
    with tenant_context(tenant_a):
        assert BulkReissue.objects.count() == 1


def test_only_admins_reissue_and_other_tenants_see_nothing(client, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        made = estate()
        user_create(email="operator@alpha.test", password=PASSWORD, role="operator", actor=Actor.command())
    operator = sign_in(client, "operator@alpha.test", HOST)
    listing = operator.get(CERTIFICATES, headers=HOST).content.decode()
    assert "reissue_selected" not in listing
    refused = _act(operator, [made["shop"].pk], revoke_old="on", reason="superseded")
    assert refused.status_code == 302  # an action the operator is not offered: back to the list, nothing done
    with tenant_context(tenant_a):
        assert not BulkReissue.objects.exists()
        bulk_id = BulkReissue.objects.create(selector={"ids": [made["shop"].pk]}, total=1).pk

    client.logout()
    beta = sign_in(client, TENANT_B["admin_email"], {"host": TENANT_B["domain"]})
    elsewhere = beta.get(f"{BULK}{bulk_id}/change/", headers={"host": TENANT_B["domain"]}, follow=True)
    assert elsewhere.status_code == 200 and "exist" in elsewhere.content.decode()  # alpha's, not beta's
    assert "shop.alpha.test" not in beta.get(BULK, headers={"host": TENANT_B["domain"]}).content.decode()
