"""Bulk reissue through a real worker, real certbot, Pebble and BIND9: what the selector picks is renewed,
each new version published to the tenant's storage before its old version is revoked at Pebble, the rest
untouched; a renewal that fails (a DNS account with a wrong TSIG secret) revokes nothing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import BulkReissue, Certificate, Job, JobOperation, ReissueItemStatus
from apps.certificates.services.certificates import certificate_update
from apps.certificates.services.reissue import bulk_reissue_create
from apps.storage.models import Publication
from tests.api.conftest import bearer_client
from tests.e2e.issuance import accounts_for, rfc2136_credentials, unique
from tests.e2e.reissue import finished, issued_on
from tests.factories import TEST_ACTOR

pytestmark = [pytest.mark.tools, pytest.mark.worker]
WRONG_SECRET = "d3JvbmctdHNpZy1zZWNyZXQtdmFsdWU="


def _replaced_then_revoked(tenant, pebble, item) -> None:
    """The item's new version was published before its old one was revoked, at Pebble too."""
    with tenant_context(tenant):
        certificate = Certificate.objects.get(pk=item["certificate_id"])
        old = certificate.versions.get(number=item["old_version"])
        new = certificate.versions.get(number=item["new_version"])
        publication = Publication.objects.get(version=new)
        revocation = Job.objects.get(pk=item["revocation_job"])
    assert certificate.current_version_id == new.pk and new.number == old.number + 1
    assert publication.published_at < revocation.created_at < old.revoked_at, "revoked only once replaced"
    assert (old.revocation_reason, revocation.operation) == ("keycompromise", JobOperation.REVOKE)
    assert pebble.certificate_status(old.serial)["Status"] == "Revoked"
    assert pebble.certificate_status(new.serial)["Status"] == "Valid"


def test_a_ca_accounts_certificates_are_renewed_then_their_old_versions_revoked(fresh_tenant, worker, pebble, bind9):
    tenant = fresh_tenant()
    distrusted, dns = accounts_for(tenant, pebble, bind9)
    kept, kept_dns = accounts_for(tenant, pebble, bind9)
    picked = [issued_on(tenant, distrusted, dns) for _ in range(2)]
    other = issued_on(tenant, kept, kept_dns)

    out = StringIO()
    call_command(
        "reissue", "--tenant", tenant.schema_name, "--ca-account", distrusted.name, "--revoke-old",
        "--reason", "keycompromise", "--wait", "--json", "--timeout", "240", stdout=out,
    )  # fmt: skip
    shown = json.loads(out.getvalue())
    assert (shown["status"], shown["total"], shown["renewed"], shown["revoked"], shown["failed"]) == (
        "succeeded", 2, 2, 2, 0,
    )  # fmt: skip
    assert {item["certificate"] for item in shown["items"]} == {c.identifier for c in picked}
    for item in shown["items"]:
        assert (item["status"], item["old_version"], item["new_version"], item["error"]) == ("done", 1, 2, "")
        _replaced_then_revoked(tenant, pebble, item)

    with tenant_context(tenant):
        assert other.versions.count() == 1 and not other.jobs.filter(operation=JobOperation.RENEW).exists()
    assert pebble.certificate_status(other.current_version.serial)["Status"] == "Valid"
    followed = bearer_client(tenant, "viewer").get(f"/api/reissues/{shown['id']}").json()
    assert followed["status"] == "succeeded" and followed["done"] == 2


def test_a_failed_renewal_revokes_nothing_and_keeps_its_version_current(fresh_tenant, worker, pebble_factory, bind9):
    # A CA that validates every order afresh (Pebble reuses half of its valid authorizations by default).
    pebble = pebble_factory(extra_env={"PEBBLE_AUTHZREUSE": "0"})
    tenant = fresh_tenant()
    ca, dns = accounts_for(tenant, pebble, bind9)
    good, broken = issued_on(tenant, ca, dns), issued_on(tenant, ca, dns)
    with tenant_context(tenant):
        wrong = dns_account_create(
            actor=TEST_ACTOR, name=unique("bind-wrong-"), provider="rfc2136",
            credentials=rfc2136_credentials(bind9, secret=WRONG_SECRET), propagation_seconds=1,
        )  # fmt: skip
        certificate_update(certificate=broken, dns_account=wrong, actor=TEST_ACTOR)
        bulk = bulk_reissue_create(
            selector={"ca_account": ca.name}, revoke_old=True, reason="keycompromise", actor=TEST_ACTOR
        )
    bulk = finished(tenant, bulk.pk)
    assert (bulk.status, bulk.renewed, bulk.revoked, bulk.failed) == ("failed-partially", 1, 1, 1)
    with tenant_context(tenant):
        items = {item.certificate_id: item for item in BulkReissue.objects.get(pk=bulk.pk).items.all()}
        failed, done = items[broken.pk], items[good.pk]
        assert (done.status, failed.status) == (ReissueItemStatus.DONE, ReissueItemStatus.FAILED)
        assert failed.error.startswith(f"renewal failed (v1 stays current, not revoked): {broken.identifier}: DNS ")
        assert (failed.revocation_job_id, failed.new_version_id) == (None, None)
        still = Certificate.objects.select_related("current_version").get(pk=broken.pk)
        assert still.current_version_id == broken.current_version_id and still.current_version.revoked_at is None
    assert pebble.certificate_status(broken.current_version.serial)["Status"] == "Valid"
    assert pebble.certificate_status(good.current_version.serial)["Status"] == "Revoked"
