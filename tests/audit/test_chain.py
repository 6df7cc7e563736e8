"""The audit chain itself: recorded in the write's transaction, append-only, tamper-evident, per tenant."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django_tenants.utils import schema_context

from certmate.actors import Actor, Channel
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_changes, audit_record, audit_verify
from tests.audit.tampering import behind_the_trigger

pytestmark = pytest.mark.django_db


def _record(n: int, *, tenant: str) -> None:
    with schema_context(tenant):
        for i in range(n):
            audit_record(
                actor=Actor.system("test"),
                action="thing.updated",
                object_type="thing",
                object_id=i,
                object_name=f"thing {i} ✓",
                changes={"size": [i, i + 1], "when": None},
            )


def test_each_tenant_has_its_own_intact_chain(tenant_a, tenant_b):
    _record(3, tenant="alpha")
    _record(2, tenant="beta")
    with schema_context("alpha"):
        report = audit_verify()
        assert report.ok and report.checked == AuditEvent.objects.count() >= 3
        assert set(AuditEvent.objects.values_list("tenant", flat=True)) == {"alpha"}
    with schema_context("beta"):
        assert audit_verify().ok
        assert not AuditEvent.objects.filter(object_name__startswith="thing 2").exists()


def test_rows_are_append_only_for_everyone(tenant_a):
    _record(1, tenant="alpha")
    with schema_context("alpha"):
        event = AuditEvent.objects.order_by("-id").first()
        for statement in (
            "UPDATE audit_auditevent SET action = 'nothing' WHERE id = %s",
            "DELETE FROM audit_auditevent WHERE id = %s",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
                c.execute(statement, [event.pk])
        assert AuditEvent.objects.get(pk=event.pk).action == "thing.updated"


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE audit_auditevent SET object_name = 'someone else' WHERE id = %s", "was changed"),
        ("UPDATE audit_auditevent SET changes = '{}'::jsonb WHERE id = %s", "was changed"),
        ("DELETE FROM audit_auditevent WHERE id = %s", "does not follow"),
    ],
)
def test_verify_finds_the_first_broken_link(tenant_a, statement, problem):
    _record(4, tenant="alpha")
    with schema_context("alpha"):
        ids = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:4])[::-1]
        assert audit_verify().ok
        behind_the_trigger(statement, [ids[1]])
        report = audit_verify()
        assert not report.ok
        assert problem in report.problem
        # An edit breaks the edited event; a removal shows at the event that followed it.
        assert report.broken_id == (ids[2] if problem == "does not follow" else ids[1])


def test_secrets_are_recorded_as_changed_only():
    changes = audit_changes({"name": "a", "token": "s3cret"}, {"name": "b", "token": "n3w"}, secret={"token"})
    assert changes == {"name": ["a", "b"], "token": "changed"}
    assert audit_changes({"token": "same"}, {"token": "same"}, secret={"token"}) == {}


def test_an_event_rolls_back_with_its_write(tenant_a):
    with schema_context("alpha"):
        before = AuditEvent.objects.count()
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(actor=Actor.system("test"), action="thing.created", object_type="thing")
            raise RuntimeError("the write failed")
        assert AuditEvent.objects.count() == before
        event = audit_record(actor=Actor(channel=Channel.API, name="x@alpha.test"), action="thing.created")
        assert event.channel == "api" and audit_verify().ok


def test_nul_characters_never_reach_the_database(tenant_a):
    with schema_context("alpha"):
        event = audit_record(
            actor=Actor(channel=Channel.API, name="a\x00b", user_agent="curl\x00"),
            action="thing.updated",
            object_name="x\x00y",
            changes={"key\x00": ["a\x00", "b"]},
        )
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (stored.actor_name, stored.user_agent, stored.object_name) == ("ab", "curl", "xy")
        assert stored.changes == {"key": ["a", "b"]}
        assert audit_verify().ok
