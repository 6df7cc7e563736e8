"""Registering a CA account at a real CA (Pebble) holds no row lock while the CA answers, yet first uses
racing in several workers still end with one ACME account kept (the result is stored only if none was)."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_ensure_registered, ca_account_update
from apps.certificates.models import CaAccount
from certmate.audit.models import AuditEvent
from tests.concurrency import run_together
from tests.e2e.issuance import accounts_for
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.tools


def test_first_uses_at_once_register_one_account(fresh_tenant, pebble, bind9):
    tenant = fresh_tenant()
    ca, _ = accounts_for(tenant, pebble, bind9)

    def first_use():
        with tenant_context(tenant):
            return ca_account_ensure_registered(actor=TEST_ACTOR, ca_account_id=ca.pk).acme_account_uri

    uris = run_together(first_use, 4)
    assert len(set(uris)) == 1 and uris[0].startswith("https://"), uris
    with tenant_context(tenant):
        account = CaAccount.objects.get(pk=ca.pk)
        assert account.acme_account_uri == uris[0] and account.registered_at
        # Recorded once, by whoever registered it, without the account's key.
        [event] = AuditEvent.objects.filter(action="ca_account.registered", object_id=str(ca.pk))
        assert event.changes["acme_account_uri"] == ["", uris[0]] and event.object_name == ca.name
        assert "private_key" not in json.dumps(event.changes)
        # Registered: what it was registered with is fixed now (a change mid-registration waits for it).
        with pytest.raises(Exception, match="registered at its CA"):
            ca_account_update(actor=TEST_ACTOR, account=account, email="other@certmate.test")
