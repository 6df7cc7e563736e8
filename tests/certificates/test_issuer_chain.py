"""The CA accounts an order goes down: the certificate's own, then its chain or the tenant's default
one, never longer than MAX_FALLBACKS after its own (however the positions were written)."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.certificates.models import CaAccount, Certificate
from apps.certificates.services.acme_options import MAX_FALLBACKS, issuer_chain
from tests.factories import accounts


def test_the_tenants_default_chain_is_cut_at_its_limit(tenant_a):
    with tenant_context(tenant_a):
        own, _ = accounts()
        others = [
            CaAccount.objects.create(
                name=f"ca-{n}", directory_url=own.directory_url, email=own.email, fallback_position=n
            )
            for n in range(1, MAX_FALLBACKS + 3)
        ]
        certificate = Certificate.objects.create(identifier="chain.alpha.test", ca_account=own)
        chain = issuer_chain(certificate)
    assert [account.pk for account in chain] == [own.pk, *(account.pk for account in others[:MAX_FALLBACKS])]
