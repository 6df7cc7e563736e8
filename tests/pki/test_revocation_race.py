"""Revocations at once, in several threads (each on its own connection, rows committed): the CA's newest
CRL lists every one of them, and the same revocation asked for twice at once is recorded once."""

from __future__ import annotations

import itertools
import threading

from django_tenants.utils import tenant_context

from apps.certificates.models import RevocationList
from apps.certificates.pki.crl import crl_current
from apps.certificates.pki.revoking import private_version_revoke
from apps.certificates.pki.services import ca_hierarchy_create
from certmate.audit.models import AuditEvent
from tests.concurrency import run_together
from tests.factories import TEST_ACTOR
from tests.pki.revocation_support import issue


def test_the_newest_crl_lists_every_revocation_made_at_once(fresh_tenant):
    tenant = fresh_tenant()
    with tenant_context(tenant):
        _, authority = ca_hierarchy_create(name="race", common_name="Race CA", key_type="ec256", actor=TEST_ACTOR)
        versions = [issue(f"racer-{n}", ca="race") for n in range(4)]
    turns, lock = itertools.count(), threading.Lock()

    def revoke_one():
        with lock:
            version = versions[next(turns)]
        with tenant_context(tenant):
            return private_version_revoke(version=version, reason="superseded", actor=TEST_ACTOR).pk

    assert sorted(run_together(revoke_one, 4)) == sorted(version.pk for version in versions)
    with tenant_context(tenant):
        numbers = sorted(RevocationList.objects.filter(authority=authority).values_list("number", flat=True))
        newest = crl_current(authority)
    assert numbers == [1, 2, 3, 4] and newest.entries == 4


def test_the_same_revocation_twice_at_once_is_recorded_once(fresh_tenant):
    tenant = fresh_tenant()
    with tenant_context(tenant):
        _, authority = ca_hierarchy_create(name="twice", common_name="Twice CA", key_type="ec256", actor=TEST_ACTOR)
        version = issue("twin", ca="twice")

    def revoke():
        with tenant_context(tenant):
            return private_version_revoke(version=version, reason="keycompromise", actor=TEST_ACTOR).revoked_at

    assert len(set(run_together(revoke, 3))) == 1
    with tenant_context(tenant):
        assert AuditEvent.objects.filter(action="certificate.revoked").count() == 1
        assert RevocationList.objects.filter(authority=authority).count() == 1
