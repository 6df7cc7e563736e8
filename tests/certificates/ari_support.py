"""ARI tests without a CA behind: a local ACME directory (tests/e2e/acme_stub.py) offering renewalInfo and
profiles, and certificates of a CA account at it with real versions (the factories' test CA)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.models import CaAccount, Certificate
from tests.e2e.acme_stub import AcmeStub
from tests.factories import TEST_ACTOR, accounts, version_add

PROFILES = {"classic": "the usual 90 days", "shortlived": "six days"}


@pytest.fixture(name="stub")
def stub_fixture() -> Iterator[AcmeStub]:
    """Import it as ``stub_fixture``; tests ask for ``stub``."""
    with AcmeStub(profiles=PROFILES) as server:
        yield server


def stub_account(stub: AcmeStub, name: str = "ari-ca") -> CaAccount:
    return ca_account_create(
        actor=TEST_ACTOR, name=name, directory=stub.directory_url, email="ops@example.com",
        trust_bundle=stub.ca_bundle.read_text(),
    )  # fmt: skip


def stub_certificate(stub: AcmeStub, identifier: str = "www.alpha.test", **fields) -> Certificate:
    """A certificate with one version, ordered through a CA account at ``stub`` (call in a tenant's schema)."""
    ca = CaAccount.objects.filter(directory_url=stub.directory_url).first() or stub_account(stub)
    certificate = Certificate.objects.create(identifier=identifier, ca_account=ca, dns_account=accounts()[1], **fields)
    version_add(certificate)
    return Certificate.objects.select_related("current_version", "ca_account").get(pk=certificate.pk)
