"""Bulk reissue, the services: what a selector matches and how it is refused, and each item's way from
pending to done or failed — nothing revoked before its replacement is published, a failed renewal
revoking nothing, the CA account's order limit pacing the orders, passes safe to repeat. The jobs'
outcomes are recorded here as a worker records them (tests/e2e/test_reissue.py runs them for real)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import (
    BulkReissue,
    Certificate,
    Job,
    JobOperation,
    JobStatus,
    ReissueItem,
    ReissueItemStatus,
    ReissueStatus,
)
from apps.certificates.reissue_selectors import item_error, item_progress
from apps.certificates.services.reissue import bulk_reissue_create, bulk_reissue_preview
from apps.certificates.services.reissue_advance import IDLE_SECONDS, PASS_SECONDS, bulk_reissue_advance
from apps.certificates.services.reissue_resume import LOST_AFTER, bulk_reissues_resume
from apps.storage.models import Publication
from certmate.audit.models import AuditEvent
from tests.certificates.reissue_support import (
    estate,
    item_of,
    published,
    renewal_fails,
    renewal_succeeds,
    revocation_succeeds,
)
from tests.factories import TEST_ACTOR, certificate_make

pytestmark = pytest.mark.django_db
S = ReissueItemStatus


@pytest.fixture
def storage_root(tmp_path, settings):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    return settings.CERTMATE_STORAGE_ROOT


def _refusal(selector, **options) -> str:
    with pytest.raises(ValidationError) as caught:
        bulk_reissue_create(selector=selector, actor=TEST_ACTOR, **options)
    return "; ".join(caught.value.messages)


def test_selectors_match_by_account_issuer_key_type_names_and_ids(tenant_a):
    with tenant_context(tenant_a):
        made = estate()
        issuer = made["shop"].current_version.issuer
        private = certificate_make("unissued.alpha.test", versions=0)

        def matching(**selector) -> set[str]:
            bulk = bulk_reissue_create(selector=selector, actor=TEST_ACTOR)
            assert bulk.status == ReissueStatus.QUEUED
            names = set(bulk.items.values_list("certificate__identifier", flat=True))
            BulkReissue.objects.filter(pk=bulk.pk).update(status=ReissueStatus.SUCCEEDED)  # room for the next
            return names

        assert matching(ca_account="le") == {"shop.alpha.test", "api.alpha.test"}
        assert matching(ca_account="otherle") == {"mail.alpha.test"}
        assert matching(key_type="rsa2048") == {"api.alpha.test"}
        assert matching(names="www.*.alpha.test") == {"shop.alpha.test"}  # a SAN matches
        assert matching(names="*.ALPHA.test", ca_account="le", key_type="ec256") == {"shop.alpha.test"}
        assert matching(issuer=issuer[-12:].upper()) == {"shop.alpha.test", "api.alpha.test", "mail.alpha.test"}
        assert matching(ids=[made["mail"].pk, made["api"].pk]) == {"mail.alpha.test", "api.alpha.test"}
        assert bulk_reissue_preview(selector={"names": "?ail.alpha.test"}) == 1
        bulk = BulkReissue.objects.order_by("pk").first()
        assert (bulk.total, bulk.revoke_old, bulk.reason) == (2, False, "")
        assert {item.old_version_id for item in bulk.items.all()} == {
            made["shop"].current_version_id,
            made["api"].current_version_id,
        }
        assert AuditEvent.objects.filter(action="bulk_reissue.requested").count() == 7
        assert "unissued.alpha.test (id" in _refusal({"ids": [made["shop"].pk, private.pk]})


@pytest.mark.parametrize(
    ("selector", "options", "said"),
    [
        ({}, {}, "selector: say which certificates"),
        ("le", {}, "selector: give an object"),
        ({"ca_acount": "le"}, {}, "selector: unknown key 'ca_acount'"),
        ({"ca_account": "nobody"}, {}, "selector.ca_account: no CA account named 'nobody'"),
        ({"ca_account": 5}, {}, "selector.ca_account: give text"),
        ({"key_type": "dsa"}, {}, "selector.key_type: 'dsa' is unknown"),
        ({"names": "a b.test"}, {}, "selector.names: 'a b.test' is not a name glob"),
        ({"names": "x" * 300}, {}, "selector.names: give text of at most 253"),
        ({"issuer": "a\x00b"}, {}, "selector.issuer: give text"),
        ({"ids": [True]}, {}, "selector.ids: each id is a positive whole number"),
        ({"ids": "1"}, {}, "selector.ids: give a list"),
        ({"ids": list(range(1, 1002))}, {}, "at most 1000"),
        ({"ids": [2**70]}, {}, "selector.ids: each id"),
        ({"ids": [999999]}, {}, "id 999999 (none here)"),
        ({"names": "*.nowhere.test"}, {}, "it matches no ACME server certificate"),
        ({"ca_account": "le"}, {"reason": "keycompromise"}, "reason: a reason without revoke_old revokes nothing"),
        ({"ca_account": "le"}, {"revoke_old": True, "reason": "bored"}, "reason: 'bored' is unknown"),
    ],
)
def test_refusals_name_the_key_and_what_to_do(tenant_a, selector, options, said):
    with tenant_context(tenant_a):
        estate()
        assert said in _refusal(selector, **options)
        assert not BulkReissue.objects.exists() and not AuditEvent.objects.filter(action__startswith="bulk").exists()


def test_renewed_published_then_revoked_and_a_failure_revokes_nothing(tenant_a, storage_root, settings):
    with tenant_context(tenant_a):
        made = estate()
        bulk = bulk_reissue_create(
            selector={"ca_account": "le"}, revoke_old=True, reason="keycompromise", actor=TEST_ACTOR
        )
        bulk_reissue_advance(bulk_id=bulk.pk)
        shop, api = item_of(made["shop"]), item_of(made["api"])
        assert (shop.status, api.status) == (S.RENEWING, S.RENEWING)
        job = shop.renewal_job
        assert (job.operation, job.status, job.forced) == (JobOperation.RENEW, JobStatus.QUEUED, True)
        assert BulkReissue.objects.get(pk=bulk.pk).status == ReissueStatus.RUNNING
        assert not Job.objects.filter(operation=JobOperation.REVOKE).exists()

        new = renewal_succeeds(shop)
        renewal_fails(api, "api.alpha.test: DNS problem: NXDOMAIN looking up TXT")
        bulk_reissue_advance(bulk_id=bulk.pk)
        shop, api = item_of(made["shop"]), item_of(made["api"])
        assert (shop.status, shop.new_version_id) == (S.PUBLISHING, new.pk)
        assert "waiting for storage to publish it" in item_progress(shop) and item_error(shop) == ""
        assert not Job.objects.filter(operation=JobOperation.REVOKE).exists(), "not before it is published"
        assert api.status == S.FAILED and "api.alpha.test: DNS problem" in item_error(api)
        assert api.error.startswith("renewal failed (v1 stays current, not revoked): ")
        assert Certificate.objects.get(pk=made["api"].pk).current_version_id == api.old_version_id

        publication = published(new)
        bulk_reissue_advance(bulk_id=bulk.pk)
        shop = item_of(made["shop"])
        revocation = shop.revocation_job
        assert shop.status == S.REVOKING and (revocation.version_id, revocation.revocation_reason) == (
            shop.old_version_id,
            "keycompromise",
        )
        assert revocation.created_at > publication.published_at
        bulk_reissue_advance(bulk_id=bulk.pk)  # a pass with nothing finished changes nothing
        assert Job.objects.filter(operation=JobOperation.REVOKE).count() == 1

        revocation_succeeds(shop)
        done = bulk_reissue_advance(bulk_id=bulk.pk)
        assert item_of(made["shop"]).status == S.DONE
        assert (done.status, done.total, done.renewed, done.revoked, done.failed) == (
            ReissueStatus.FAILED_PARTIALLY, 2, 1, 1, 1,
        )  # fmt: skip
        assert done.finished_at is not None
        assert not Job.objects.filter(certificate=made["mail"]).exclude(started_at__lt=bulk.created_at).exists()
        steps = AuditEvent.objects.filter(action="bulk_reissue.item_changed").order_by("pk")
        changes = list(steps.values_list("changes", flat=True))
        shop_steps = [c["status"] for c in changes if c["certificate"] == "shop.alpha.test"]
        assert shop_steps == [["pending", "renewing"], ["renewing", "publishing"], ["publishing", "revoking"],
                              ["revoking", "done"]]  # fmt: skip
        [finished] = AuditEvent.objects.filter(action="bulk_reissue.finished")
        assert finished.changes["status"] == "failed-partially"
        assert bulk_reissue_advance(bulk_id=bulk.pk).finished_at == done.finished_at  # finished stays finished


def test_without_revoke_old_a_published_renewal_is_done(tenant_a, storage_root):
    with tenant_context(tenant_a):
        made = estate()
        bulk = bulk_reissue_create(selector={"names": "mail.alpha.test"}, actor=TEST_ACTOR)
        bulk_reissue_advance(bulk_id=bulk.pk)
        published(renewal_succeeds(item_of(made["mail"])))
        done = bulk_reissue_advance(bulk_id=bulk.pk)
        assert (done.status, done.renewed, done.revoked) == (ReissueStatus.SUCCEEDED, 1, 0)
        assert not Job.objects.filter(operation=JobOperation.REVOKE).exists()


def test_a_failed_publication_keeps_the_old_version_unrevoked_and_says_why(tenant_a, storage_root, settings):
    with tenant_context(tenant_a):
        made = estate()
        bulk = bulk_reissue_create(selector={"ids": [made["mail"].pk]}, revoke_old=True, actor=TEST_ACTOR)
        bulk_reissue_advance(bulk_id=bulk.pk)
        new = renewal_succeeds(item_of(made["mail"]))
        Publication.objects.create(
            version=new, target_id=published(made["shop"].current_version).target_id, state="failed",
            last_error="Local filesystem: disk full",
        )  # fmt: skip
        bulk_reissue_advance(bulk_id=bulk.pk)
        item = item_of(made["mail"])
        assert item.status == S.PUBLISHING and "failed: Local filesystem: disk full" in item_progress(item)
        assert not Job.objects.filter(operation=JobOperation.REVOKE).exists()


def test_a_publication_that_gave_up_is_looked_at_again_once_a_minute_not_every_pass(
    tenant_a, storage_root, monkeypatch
):
    """Its storage target broken for good (the tenant's to fix), a bulk reissue must not come back every
    few seconds, for ever, over each of its items."""
    sent = []
    monkeypatch.setattr(
        "apps.certificates.services.reissue_advance.dispatch_on_commit",
        lambda name, args, countdown=0: sent.append(countdown),
    )
    with tenant_context(tenant_a):
        made = estate()
        bulk = bulk_reissue_create(selector={"ids": [made["mail"].pk]}, revoke_old=True, actor=TEST_ACTOR)
        bulk_reissue_advance(bulk_id=bulk.pk)
        new = renewal_succeeds(item_of(made["mail"]))
        target_id = published(made["shop"].current_version).target_id
        pending = Publication.objects.create(version=new, target_id=target_id, state="pending")
        bulk_reissue_advance(bulk_id=bulk.pk)
        assert sent[-1] == PASS_SECONDS, "a publication under way is looked at again soon"
        Publication.objects.filter(pk=pending.pk).update(state="failed", last_error="Local filesystem: disk full")
        bulk_reissue_advance(bulk_id=bulk.pk)
        assert item_of(made["mail"]).status == S.PUBLISHING
        assert sent[-1] == IDLE_SECONDS


def test_a_later_version_published_over_the_new_one_counts_as_live(tenant_a, storage_root):
    from apps.certificates.publication import version_publication
    from tests.factories import version_add

    with tenant_context(tenant_a):
        made = estate()
        replaced = version_add(made["mail"])  # its publication never ran: superseded by the next one
        assert version_publication(replaced).published is False
        later = published(version_add(made["mail"]))
        live = version_publication(replaced)
        assert (live.published, live.published_at) == (True, later.published_at)


def test_the_order_limit_keeps_the_rest_pending_with_the_reason(tenant_a, storage_root, settings):
    settings.CERTMATE_ORDERS_PER_ACCOUNT = 1
    with tenant_context(tenant_a):
        made = estate()
        bulk = bulk_reissue_create(selector={"ca_account": "le"}, actor=TEST_ACTOR)
        bulk_reissue_advance(bulk_id=bulk.pk)
        first, second = (item_of(made[name]) for name in ("api", "shop"))  # in name order
        assert (first.status, second.status) == (S.RENEWING, S.PENDING)
        assert "waiting for CA account 'le''s order limit" in item_progress(second)
        assert "1 queued, of 1 (CERTMATE_ORDERS_PER_ACCOUNT)" in item_progress(second)
        assert item_error(second) == "" and BulkReissue.objects.get(pk=bulk.pk).failed == 0

        bulk_reissue_advance(bulk_id=bulk.pk)
        assert item_of(made["shop"]).status == S.PENDING  # its order started now: the window is full
        renewal_succeeds(first)
        bulk_reissue_advance(bulk_id=bulk.pk)
        second = item_of(made["shop"])
        assert second.status == S.PENDING and "room again at" in item_progress(second)

        Job.objects.update(started_at=timezone.now() - timedelta(days=1))  # the window has passed
        bulk_reissue_advance(bulk_id=bulk.pk)
        assert item_of(made["shop"]).status == S.RENEWING


def test_a_certificate_with_a_revocation_running_waits_for_it(tenant_a):
    with tenant_context(tenant_a):
        made = estate()
        running = Job.objects.create(
            certificate=made["mail"], operation=JobOperation.REVOKE, version=made["mail"].current_version,
            revocation_reason="superseded",
        )  # fmt: skip
        bulk = bulk_reissue_create(selector={"ca_account": "otherle"}, actor=TEST_ACTOR)
        bulk_reissue_advance(bulk_id=bulk.pk)
        item = item_of(made["mail"])
        assert item.status == S.PENDING and f"waiting: job {running.pk} is revoking" in item_progress(item)


def test_lost_bulk_reissues_are_sent_again_once(tenant_a):
    with tenant_context(tenant_a):
        estate()
        bulk = bulk_reissue_create(selector={"ca_account": "le"}, actor=TEST_ACTOR)
        assert bulk_reissues_resume() == 0  # just asked for: its task is on its way
        later = timezone.now() + LOST_AFTER + timedelta(seconds=1)
        BulkReissue.objects.filter(pk=bulk.pk).update(created_at=timezone.now() - LOST_AFTER * 2)
        assert bulk_reissues_resume(now=later) == 1
        assert bulk_reissues_resume(now=later) == 0  # marked: sent once, not every minute
        assert bulk_reissues_resume(now=later + LOST_AFTER + timedelta(seconds=1)) == 1
        ReissueItem.objects.update(status=S.DONE)  # a pass died before it could finish the bulk
        assert bulk_reissues_resume(now=later + LOST_AFTER * 3) == 1


def test_a_certificate_deleted_meanwhile_leaves_the_rest_to_finish(tenant_a, storage_root):
    from apps.certificates.services.certificates import certificate_delete

    with tenant_context(tenant_a):
        made = estate()
        bulk = bulk_reissue_create(selector={"ca_account": "le"}, actor=TEST_ACTOR)
        bulk_reissue_advance(bulk_id=bulk.pk)
        Job.objects.filter(certificate=made["api"]).update(status=JobStatus.FAILED)
        certificate_delete(certificate=made["api"], actor=TEST_ACTOR)
        published(renewal_succeeds(item_of(made["shop"])))
        done = bulk_reissue_advance(bulk_id=bulk.pk)
        assert (done.status, done.total, done.renewed) == (ReissueStatus.SUCCEEDED, 1, 1)


def test_at_most_three_bulk_reissues_are_open_at_once(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        estate()
        started = [bulk_reissue_create(selector={"ca_account": "le"}, actor=TEST_ACTOR) for _ in range(3)]
        with pytest.raises(ValidationError) as refused:
            bulk_reissue_create(selector={"ca_account": "le"}, actor=TEST_ACTOR)
        assert refused.value.code == "conflict"
        assert f"({', '.join(str(bulk.pk) for bulk in started)})" in refused.value.message
        BulkReissue.objects.filter(pk=started[0].pk).update(status=ReissueStatus.SUCCEEDED)
        bulk_reissue_create(selector={"ca_account": "le"}, actor=TEST_ACTOR)  # one finished: room again
    with tenant_context(tenant_b):  # another tenant's are its own
        estate()
        bulk_reissue_create(selector={"ca_account": "le"}, actor=TEST_ACTOR)
