"""The tenant's first uses of its default CA, at once in several threads (each on its own connection,
rows committed): one hierarchy is made, every caller gets the same CA."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority
from apps.certificates.pki.authorities import ca_default_ensure
from tests.concurrency import run_together
from tests.factories import TEST_ACTOR


def test_first_uses_at_once_make_one_default(fresh_tenant):
    tenant = fresh_tenant()

    def first_use():
        with tenant_context(tenant):
            return ca_default_ensure(actor=TEST_ACTOR).pk

    assert len(set(run_together(first_use, 3))) == 1
    with tenant_context(tenant):
        assert CertificateAuthority.objects.count() == 2
