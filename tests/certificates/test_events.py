"""Certificate events: written with the change they describe, per tenant, and delivered to every
consumer once in effect — a failing consumer is retried without holding up the others, and a process
killed between the commit and the delivery loses nothing."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates import events as certificate_events
from apps.certificates.events import consumer_register, consumer_unregister, consumers_of
from apps.certificates.models import CertificateEvent, EventDelivery, EventKind, Job, JobOperation, JobStatus
from apps.certificates.services import certificate_issue
from apps.certificates.services.certificates import certificate_delete
from apps.certificates.services.events import SWEEP_GRACE, event_record, events_process, events_sweep_all
from apps.certificates.services.schedule import schedule_install
from apps.storage.models import Publication, PublicationState
from certmate.audit.models import AuditEvent
from certmate.celery import app as celery_app
from tests.certificates.event_consumers import label_of, received, recording, subscribed
from tests.factories import TEST_ACTOR, certificate_make, version_add
from tests.testapp.models import TaskRun
from tests.worker import ROOT, database_url_of_test_db


@pytest.fixture
def consumer():
    """``consumer(**options)``: a recording test consumer of its own name (unregistered afterwards)."""
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(subscribed(**options))


@pytest.fixture
def eager(monkeypatch):
    """What is sent to Celery runs here and now (storage's publishes included)."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def root(tmp_path, settings):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    return settings.CERTMATE_STORAGE_ROOT


def worker_audit(action: str, identifier: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_name=identifier).order_by("id"))


def test_a_new_version_records_issued_then_renewed_with_its_audit_event(tenant_a):
    with tenant_context(tenant_a):
        certificate = certificate_make("events.alpha.test")
        version_add(certificate)
        events = list(CertificateEvent.objects.filter(identifier="events.alpha.test").order_by("id"))
        assert [(e.kind, e.version_number, e.certificate_id) for e in events] == [
            ("issued", 1, certificate.pk),
            ("renewed", 2, certificate.pk),
        ]
        assert events[1].detail == {"serial": events[1].version.serial}
        assert all(e.processed_at is None for e in events), "nothing processed them yet"
        issued, renewed = (
            worker_audit("certificate.issued", "events.alpha.test"),
            worker_audit("certificate.renewed", "events.alpha.test"),
        )
        assert [(a.channel, a.actor_name, a.changes) for a in issued] == [("system", "worker", {"version": [None, 1]})]
        assert [(a.channel, a.object_type, a.changes) for a in renewed] == [
            ("system", "certificate", {"version": [1, 2]})
        ]


def test_an_event_rolls_back_with_its_change(tenant_a):
    with tenant_context(tenant_a):
        certificate = certificate_make("undone.alpha.test", versions=0)
        with pytest.raises(RuntimeError), transaction.atomic():
            version_add(certificate)
            assert CertificateEvent.objects.filter(identifier="undone.alpha.test").count() == 1
            raise RuntimeError("the change fails after the version was stored")
        assert not CertificateEvent.objects.filter(identifier="undone.alpha.test").exists()
        assert not worker_audit("certificate.issued", "undone.alpha.test")
        assert certificate.versions.count() == 0


def test_a_failed_issuance_records_issue_failed_with_its_audit_event(tenant_a):
    with tenant_context(tenant_a):
        certificate = certificate_make("no-accounts.alpha.test", versions=0, with_accounts=False)
        job = Job.objects.create(certificate=certificate, operation=JobOperation.ISSUE)
        done = certificate_issue(job_id=job.pk)
        assert done.status == JobStatus.FAILED
        event = CertificateEvent.objects.get(identifier="no-accounts.alpha.test")
        assert (event.kind, event.version_id, event.detail) == (
            "issue_failed",
            None,
            {"reason": done.error, "job": job.pk, "next_retry": None},
        )
        [audit] = worker_audit("certificate.issue_failed", "no-accounts.alpha.test")
        assert audit.changes == {"status": ["pending", "failed"], "last_error": ["", done.error]}


def test_a_deleted_certificate_leaves_an_event_naming_it(tenant_a):
    with tenant_context(tenant_a):
        certificate = certificate_make("deleted.alpha.test")
        certificate_delete(certificate=certificate, actor=TEST_ACTOR)
        deleted = CertificateEvent.objects.get(kind=EventKind.DELETED, identifier="deleted.alpha.test")
        assert (deleted.certificate_id, deleted.certificate_kind) == (None, "server")
        issued = CertificateEvent.objects.get(kind=EventKind.ISSUED, identifier="deleted.alpha.test")
        assert (issued.certificate_id, issued.version_id, issued.version_number) == (None, None, 1)


def test_each_consumer_receives_each_event_once(tenant_a, consumer):
    first, second = consumer(), consumer(kinds=["renewed"])
    with tenant_context(tenant_a):
        certificate = certificate_make("once.alpha.test", versions=2)
        issued, renewed = CertificateEvent.objects.filter(identifier="once.alpha.test").order_by("id")
        assert events_process() >= 2
        assert events_process() == 0, "nothing is left to process"
        events_process(event_id=issued.pk)  # a task sent twice changes nothing
        assert received(first) == sorted([label_of(first, issued), label_of(first, renewed)])
        assert received(second) == [label_of(second, renewed)]
        assert set(EventDelivery.objects.filter(event=renewed).values_list("consumer", "attempts")) == {
            ("storage", 1),
            ("notifications", 1),
            (first, 1),
            (second, 1),
        }
        renewed.refresh_from_db()
        assert renewed.processed_at is not None
        # Storage is a consumer like any other: the renewed version is queued for the tenant's target.
        assert Publication.objects.filter(version=certificate.current_version).count() == 1


def test_a_failing_consumer_does_not_block_the_others_and_is_retried(tenant_a, consumer):
    good, flaky = consumer(), consumer(fail_times=1)
    with tenant_context(tenant_a):
        certificate_make("flaky.alpha.test")
        event = CertificateEvent.objects.get(identifier="flaky.alpha.test")
        assert events_process(event_id=event.pk) == 0
        assert received(good) == [label_of(good, event)]
        assert received(flaky) == [], "the failed delivery's writes went with it"
        failed = EventDelivery.objects.get(event=event, consumer=flaky)
        assert failed.delivered_at is None and failed.attempts == 1
        assert failed.last_error == f"RuntimeError: {flaky} is down"
        assert failed.next_attempt_at > timezone.now() + timedelta(seconds=10)
        event.refresh_from_db()
        assert event.processed_at is None and event.next_attempt_at == failed.next_attempt_at

        assert events_process() == 0, "not due before its backoff has passed"
        assert received(flaky) == []
        # Its backoff passes.
        EventDelivery.objects.filter(pk=failed.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        CertificateEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert events_process() == 1
        assert received(flaky) == [label_of(flaky, event)]
        assert received(good) == [label_of(good, event)], "the consumer that had it does not get it again"
        assert EventDelivery.objects.get(pk=failed.pk).attempts == 2


def test_two_tenants_events_never_mix(tenant_a, tenant_b, consumer):
    seen = consumer()
    with tenant_context(tenant_a):
        certificate_make("mine.alpha.test")
        alpha = CertificateEvent.objects.get(identifier="mine.alpha.test")
    with tenant_context(tenant_b):
        certificate_make("mine.beta.test")
        beta = CertificateEvent.objects.get(identifier="mine.beta.test")
        assert not CertificateEvent.objects.filter(identifier="mine.alpha.test").exists()
    with tenant_context(tenant_a):
        events_process()
        assert received(seen) == [label_of(seen, alpha)]
        assert set(TaskRun.objects.filter(label__startswith=seen).values_list("schema_seen", flat=True)) == {"alpha"}
    with tenant_context(tenant_b):
        assert CertificateEvent.objects.get(pk=beta.pk).processed_at is None, "alpha's processing left beta's alone"
        events_process()
        assert received(seen) == [label_of(seen, beta)]


def test_an_event_without_consumers_is_done_at_once(tenant_a, monkeypatch):
    monkeypatch.setattr(certificate_events, "_consumers", {})  # every kind has a consumer in this project
    assert consumers_of(EventKind.EXPIRING) == []
    with tenant_context(tenant_a):
        certificate = certificate_make("quiet.alpha.test", versions=0)
        event = event_record(kind=EventKind.EXPIRING, certificate=certificate, detail={"days": 7, "x": "y" * 900})
        assert event.detail == {"days": 7, "x": "y" * 500}
        assert events_process(event_id=event.pk) == 1


def test_consumers_name_known_kinds():
    with pytest.raises(ValueError, match="unknown event kinds"):
        consumer_register("test-bad", kinds=["exploded"], handler=print)
    with pytest.raises(ValueError, match="consumer name"):
        consumer_register("Bad Name", kinds=["issued"], handler=print)


def test_the_event_sweep_is_scheduled_every_minute(db):
    tasks = {task.name: task for task in schedule_install()}
    sweep = tasks["certmate: event sweep"]
    assert sweep.task == "apps.certificates.tasks.events_sweep_all_task" and sweep.interval.every == 60


def test_the_sweep_sends_only_tenants_with_events_left_over(tenant_a, tenant_b, django_capture_on_commit_callbacks):
    now = timezone.now()
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):  # what other tests committed is not this test's business
            CertificateEvent.objects.filter(processed_at__isnull=True).update(processed_at=now)
    with tenant_context(tenant_a):
        certificate_make("left.alpha.test")
    now = timezone.now()
    with django_capture_on_commit_callbacks() as sent:
        assert events_sweep_all(slugs=["alpha", "beta"], now=now) == [], "its own task still has time"
        assert events_sweep_all(slugs=["alpha", "beta"], now=now + SWEEP_GRACE + timedelta(seconds=1)) == ["alpha"]
    assert len(sent) == 1


# --- A process killed between the commit and the delivery ----------------------------------------


def run_until_stopped(mode: str, tenant, prefix: str, storage_root, log_path) -> str:
    """Run events_child until it says where it stopped, then SIGKILL it; returns what it said."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "certmate.settings.test", "DATABASE_URL": database_url_of_test_db()}
    argv = [
        sys.executable,
        "-m",
        "tests.certificates.events_child",
        mode,
        tenant.schema_name,
        prefix,
        str(storage_root),
    ]
    with open(log_path, "w") as log:
        child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        said = child.stdout.readline().strip()  # blocks until it stops (or ends)
        assert said, f"the child ended without stopping where it should:\n{log_path.read_text()[-3000:]}"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return said


def sweep_until_processed(tenant, event_id: int) -> None:
    """The beat's sweep, as often as it takes the killed process's database session to end."""
    deadline = time.monotonic() + 30
    while True:
        events_sweep_all(slugs=[tenant.schema_name], now=timezone.now() + SWEEP_GRACE * 2)
        with tenant_context(tenant):
            if CertificateEvent.objects.get(pk=event_id).processed_at is not None:
                return
        assert time.monotonic() < deadline, "the sweep did not process the event"
        time.sleep(0.5)


@pytest.fixture
def killed(fresh_tenant, root, eager, tmp_path):
    """Runs events_child in a committed tenant of its own until it is killed; the tenant and the prefix
    of its certificate and its consumers' names."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    tenant = fresh_tenant()

    def run(mode: str) -> str:
        return run_until_stopped(mode, tenant, prefix, root, tmp_path / "child.log")

    yield tenant, prefix, run
    for suffix in ("first", "second"):
        consumer_unregister(f"{prefix}-{suffix}")


def published_once(tenant, event_id: int, root) -> None:
    with tenant_context(tenant):
        event = CertificateEvent.objects.select_related("version").get(pk=event_id)
        [publication] = Publication.objects.filter(version=event.version)
        assert (publication.state, publication.attempts) == (PublicationState.PUBLISHED, 1), publication.last_error
        fullchain = root / tenant.schema_name / "server" / event.identifier / "fullchain.pem"
        assert fullchain.read_text() == event.version.fullchain_pem


def test_killed_after_the_commit_the_sweep_delivers_the_event_once_to_each_consumer(killed, root):
    tenant, prefix, run = killed
    assert run("after-commit") == "committed"
    with tenant_context(tenant):
        event = CertificateEvent.objects.get(identifier=f"{prefix}.example.com")
        assert event.processed_at is None and not event.deliveries.exists(), "the killed process delivered nothing"
    recording(f"{prefix}-first")
    recording(f"{prefix}-second", kinds=["issued"])

    sweep_until_processed(tenant, event.pk)
    events_sweep_all(slugs=[tenant.schema_name], now=timezone.now() + SWEEP_GRACE * 2)  # again: nothing more
    with tenant_context(tenant):
        for name in (f"{prefix}-first", f"{prefix}-second"):
            assert received(name) == [label_of(name, event)]
        deliveries = EventDelivery.objects.filter(event=event).values_list("consumer", "attempts")
        expected = [("storage", 1), ("notifications", 1), (f"{prefix}-first", 1), (f"{prefix}-second", 1)]
        assert sorted(deliveries) == sorted(expected)
    published_once(tenant, event.pk, root)


def test_killed_inside_a_consumer_the_others_are_not_delivered_twice(killed, root):
    tenant, prefix, run = killed
    said = run("in-consumer")
    with tenant_context(tenant):
        event = CertificateEvent.objects.get(identifier=f"{prefix}.example.com")
    assert said == f"in consumer {event.pk}"
    with tenant_context(tenant):
        assert received(f"{prefix}-first") == [label_of(f"{prefix}-first", event)]  # committed before the kill
        assert event.processed_at is None
    recording(f"{prefix}-first")
    recording(f"{prefix}-second", kinds=["issued"])

    sweep_until_processed(tenant, event.pk)
    with tenant_context(tenant):
        assert received(f"{prefix}-first") == [label_of(f"{prefix}-first", event)], "delivered once, not again"
        assert received(f"{prefix}-second") == [label_of(f"{prefix}-second", event)]
        # storage, notifications and the two recorders
        assert EventDelivery.objects.filter(event=event, delivered_at__isnull=False).count() == 4
    published_once(tenant, event.pk, root)


def test_certificates_never_import_storage():
    """Storage subscribes to certificate events; apps.certificates knows nothing of it."""
    found = []
    for path in sorted((ROOT / "apps" / "certificates").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.relative_to(ROOT)}: {name}" for name in names if name.startswith("apps.storage")]
    assert found == []
