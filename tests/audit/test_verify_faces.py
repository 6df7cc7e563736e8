"""An audit event edited behind the trigger's back, as a database superuser would: `manage.py audit verify`
and GET /api/audit/verify (CertMate's path and shape) name the tenant and the event, the other tenant's
chain stays OK. The edit is made inside the test's transaction, so it rolls back with the test."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from apps.accounts.api.audit_certmate import verify_document
from apps.accounts.models import Tenant
from certmate.actors import Actor, Channel
from certmate.audit.chain import CHAINED_FIELDS, GENESIS, link
from certmate.audit.models import AuditEvent
from certmate.audit.services import ChainReport, audit_record, audit_verify
from tests.api.conftest import bearer_client
from tests.audit.tampering import behind_the_trigger

pytestmark = pytest.mark.django_db


def record_events(tenant: Tenant, count: int) -> list[AuditEvent]:
    actor = Actor(channel=Channel.API, name=f"ops@{tenant.schema_name}.test", ip_address="192.0.2.7")
    with tenant_context(tenant):
        return [
            audit_record(
                actor=actor,
                action="certificate.renewed",
                object_type="certificate",
                object_id=number,
                object_name=f"www{number}.{tenant.schema_name}.test",
                changes={"not_after": ["2026-01-01", "2026-04-01"]},
            )
            for number in range(count)
        ]


def verify_command(*slugs: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    arguments = [argument for slug in slugs for argument in ("--tenant", slug)]
    try:
        call_command("audit", "verify", *arguments, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.fixture
def tampered(tenant_a, tenant_b) -> AuditEvent:
    """Three events in each tenant; alpha's second one rewritten behind the trigger."""
    alpha_events = record_events(tenant_a, 3)
    record_events(tenant_b, 3)
    victim = alpha_events[1]
    with tenant_context(tenant_a):
        assert audit_verify().ok
        behind_the_trigger("UPDATE audit_auditevent SET object_name = 'nothing.to.see' WHERE id = %s", [victim.pk])
    return victim


def test_verify_command_names_the_broken_tenant_and_event(tenant_a, tenant_b, tampered):
    output, error = verify_command()  # every tenant
    assert error is not None and error.returncode == 1
    assert "alpha" in str(error) and "beta" not in str(error)
    lines = {line.split(":", 1)[0]: line for line in output.splitlines()}
    assert f"BROKEN at event {tampered.pk}:" in lines["alpha"]
    assert "was changed after it was recorded" in lines["alpha"]
    with tenant_context(tenant_b):
        beta_count = AuditEvent.objects.count()
    assert lines["beta"] == f"beta: {beta_count} events checked, OK"

    output, error = verify_command("beta")
    assert error is None and output == f"beta: {beta_count} events checked, OK\n"
    output, error = verify_command("beta", "gamma")
    assert output == "" and str(error) == "no tenant with slug 'gamma' (see `manage.py tenant list`)"


def test_verify_api_reports_the_broken_link_in_certmates_shape(tenant_a, tenant_b, tampered):
    with tenant_context(tenant_a):
        position = AuditEvent.objects.filter(id__lt=tampered.pk).count()
    alpha = bearer_client(tenant_a, "admin").get("/api/audit/verify")
    assert alpha.status_code == 409
    assert alpha.json() == {
        "ok": False,
        "count": position,
        "first_seq": 0,
        "last_seq": None,
        "head_hash": None,
        "error_seq": position,
        "reason": f"event {tampered.pk} was changed after it was recorded (its hash no longer matches)",
        "tenant": "alpha",
        "broken_event_id": tampered.pk,
    }

    beta = bearer_client(tenant_b, "admin").get("/api/audit/verify")
    assert beta.status_code == 200
    with tenant_context(tenant_b):
        count = AuditEvent.objects.count()
        newest = AuditEvent.objects.order_by("-id").first()
    assert beta.json() == {
        "ok": True,
        "count": count,
        "first_seq": 0,
        "last_seq": count - 1,
        "head_hash": newest.hash,
        "error_seq": None,
        "reason": "intact",
        "tenant": "beta",
        "broken_event_id": None,
    }


def test_a_removed_event_shows_at_the_one_after_it(tenant_a, tenant_b):
    events = record_events(tenant_a, 3)
    with tenant_context(tenant_a):
        behind_the_trigger("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    body = bearer_client(tenant_a, "admin").get("/api/audit/verify").json()
    assert body["ok"] is False and body["broken_event_id"] == events[2].pk
    assert "does not follow the event before it" in body["reason"]


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_verify_is_for_admins(tenant_a, role):
    response = bearer_client(tenant_a, role).get("/api/audit/verify")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_an_empty_chain_is_intact():
    # A tenant's first user or token may soon be an event of its own, so no live tenant is sure to
    # have an empty chain: the answer for one is checked on the report audit_verify gives for it.
    assert verify_document(ChainReport("gamma", 0)) == {
        "ok": True,
        "count": 0,
        "first_seq": None,
        "last_seq": None,
        "head_hash": GENESIS,
        "error_seq": None,
        "reason": "empty chain",
        "tenant": "gamma",
        "broken_event_id": None,
    }


def test_verify_reads_times_as_the_recorder_hashed_them(tenant_a):
    """The verifier has PostgreSQL format the time; a time on a whole second (no microseconds) or with
    few digits must read back exactly as Python wrote it into the hash."""
    with tenant_context(tenant_a):
        previous = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
        for when in (datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC), datetime(2031, 2, 3, 4, 5, 6, 7, tzinfo=UTC)):
            event = AuditEvent(
                created_at=when,
                tenant="alpha",
                actor_type="system",
                actor_name="import ✓",
                channel="system",
                action="thing.imported",
                changes={"ñ": ["a\nb", {"z": 1, "a": [None, True, 1.5]}]},
                prev_hash=previous,
            )
            event.hash = previous = link(previous, {name: getattr(event, name) for name in CHAINED_FIELDS})
            event.save(force_insert=True)
        assert audit_verify().ok
