"""`manage.py audit export --tenant SLUG [filters]`: the tenant's events as JSON lines on stdout."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from certmate.actors import Actor, Channel
from certmate.audit.chain import link
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_record

pytestmark = pytest.mark.django_db


def export(*args: str) -> list[dict]:
    out = StringIO()
    call_command("audit", "export", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def recorded(tenant_a, tenant_b):
    made = {}
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            actor = Actor(channel=Channel.COMMAND, name=f"root@{tenant.schema_name}.test")
            made[tenant.schema_name] = [
                audit_record(actor=actor, action="dns_account.created", object_type="dns_account", object_name="bind"),
                audit_record(actor=Actor.system("import"), action="certificate.imported", object_name="x.test"),
            ]
    return made


def test_export_writes_the_tenants_events_as_lines(tenant_a, recorded):
    since = recorded["alpha"][0].created_at.isoformat()
    lines = export("--tenant", "alpha", "--action", "dns_account.", "--since", since)
    assert [line["id"] for line in lines] == [recorded["alpha"][0].pk]
    line = lines[0]
    assert (line["tenant"], line["actor_name"], line["channel"]) == ("alpha", "root@alpha.test", "command")
    assert link(line["prev_hash"], line) == line["hash"] == recorded["alpha"][0].hash

    everything = export("--tenant", "alpha")
    with tenant_context(tenant_a):
        ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert [line["id"] for line in everything] == ids
    assert {line["tenant"] for line in everything} == {"alpha"}
    by_system = export("--tenant", "alpha", "--actor", "import", "--until", timezone.now().isoformat())
    assert by_system[-1]["id"] == recorded["alpha"][1].pk


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last week"], "--since: Datetime has wrong format"),
        (["--channel", "fax"], '--channel: "fax" is not a valid choice.'),
        (["--action", "DROP TABLE"], "--action: give an action such as certificate.renewed"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "--until: must be later than since"),
    ],
)
def test_bad_filters_stop_with_the_option_named(tenant_a, args, message):
    with pytest.raises(CommandError, match="^" + message.replace(".", r"\.")):
        export("--tenant", "alpha", *args)


def test_an_unknown_tenant_is_named(db):
    with pytest.raises(CommandError, match="no tenant with slug 'gamma'"):
        export("--tenant", "gamma")
