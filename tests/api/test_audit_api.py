"""GET /api/audit, /api/audit/export and CertMate's /api/activity: who may read the log, what each filter
selects, that one tenant never sees another's events, and that bad input is a 400 (never a 500)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant, User
from apps.accounts.services.users import user_create
from certmate.actors import Actor, Channel
from certmate.audit.chain import CHAINED_FIELDS, link
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_record
from tests.conftest import PASSWORD

READ_PATHS = ["/api/audit", "/api/activity"]  # admins and operators
ADMIN_PATHS = ["/api/audit/export", "/api/audit/verify"]


@dataclass
class Log:
    alice: User
    events: dict[str, AuditEvent]
    t1: datetime  # between e1 and e2
    t2: datetime  # after e4
    beta_event: AuditEvent
    clients: dict[str, object]


def _record(actor: Actor, action: str, object_type: str, object_id, name: str, changes=None) -> AuditEvent:
    return audit_record(
        actor=actor, action=action, object_type=object_type, object_id=object_id, object_name=name, changes=changes
    )


@pytest.fixture
def log(tenant_a: Tenant, tenant_b: Tenant, api_client) -> Log:
    # Clients first: whatever making their users and tokens records comes before the events below.
    clients = {"alpha": api_client(tenant_a, "admin"), "beta": api_client(tenant_b, "admin")}
    with tenant_context(tenant_a):
        alice = user_create(email="alice@alpha.test", password=PASSWORD, role="operator")
        bob = user_create(email="bob@alpha.test", password=PASSWORD, role="operator")
        token = {"token_prefix": "cm_abc", "ip_address": "198.51.100.1", "user_agent": "curl/8.5"}
        e1 = _record(
            Actor.for_user(alice, Channel.API, **token), "certificate.requested", "certificate", 11,
            "www.alpha.test", {"key_type": [None, "ec256"]},
        )  # fmt: skip
        t1 = timezone.now()
        e2 = _record(
            Actor.for_user(alice, Channel.ADMIN), "ca_account.updated", "ca_account", 3, "le",
            {"email": ["a@alpha.test", "b@alpha.test"], "eab_hmac_key": "changed"},
        )  # fmt: skip
        e3 = _record(Actor.system("renewal sweep"), "certificate.renewed", "certificate", 11, "www.alpha.test")
        portal = Actor.for_user(bob, Channel.PORTAL)
        e4 = _record(portal, "certificate.renewal_failed", "certificate", 12, "api.alpha.test")
        t2 = timezone.now()
    with tenant_context(tenant_b):
        beta_user = user_create(email="carol@beta.test", password=PASSWORD, role="admin")
        beta_event = _record(
            Actor.for_user(beta_user, Channel.API), "certificate.requested", "certificate", 11, "www.beta.test"
        )
    return Log(alice, {"e1": e1, "e2": e2, "e3": e3, "e4": e4}, t1, t2, beta_event, clients)


def ids_of(log: Log, *names: str) -> list[int]:
    """The events' ids, newest first (as the list answers)."""
    return sorted((log.events[name].pk for name in names), reverse=True)


# -- who may read -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", READ_PATHS + ADMIN_PATHS)
@pytest.mark.parametrize("role", [None, "viewer", "operator", "admin"])
def test_roles(tenant_a, api_client, anon_client, path, role):
    client = api_client(tenant_a, role) if role else anon_client(tenant_a)
    response = client.get(path)
    needed = "operator" if path in READ_PATHS else "admin"
    if role is None:
        assert response.status_code == 401
    elif ["viewer", "operator", "admin"].index(role) < ["viewer", "operator", "admin"].index(needed):
        assert response.status_code == 403
        assert response.json() == {
            "error": f"GET {path} needs the {needed} role; this token has {role}",
            "code": "permission_denied",
        }
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("path", READ_PATHS + ADMIN_PATHS)
def test_another_tenants_token_is_unknown_here(tenant_a, tenant_b, api_client, path):
    beta_admin = api_client(tenant_b, "admin")
    beta_admin.defaults["HTTP_HOST"] = "alpha.test"
    assert beta_admin.get(path).status_code == 401


def test_each_tenant_reads_only_its_own_events(log):
    alpha = log.clients["alpha"]
    listed = alpha.get("/api/audit", {"limit": 500}).json()["results"]
    assert {event["tenant"] for event in listed} == {"alpha"}
    assert "www.beta.test" not in {event["object_name"] for event in listed}
    assert "www.beta.test" not in alpha.get("/api/activity", {"limit": 500}).content.decode()
    assert "www.beta.test" not in b"".join(alpha.get("/api/audit/export").streaming_content).decode()

    beta = log.clients["beta"].get("/api/audit", {"limit": 500}).json()["results"]
    assert {event["tenant"] for event in beta} == {"beta"}
    assert [e["id"] for e in beta if e["object_name"] == "www.beta.test"] == [log.beta_event.pk]
    assert not {"www.alpha.test", "api.alpha.test"} & {event["object_name"] for event in beta}


# -- filters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "ALICE@alpha.test"}, ["e1", "e2"]),
        ({"actor": "alice-id"}, ["e1", "e2"]),
        ({"actor": "renewal sweep"}, ["e3"]),
        ({"action": "certificate.renewed"}, ["e3"]),
        ({"action": "certificate."}, ["e1", "e3", "e4"]),
        ({"object_type": "certificate", "object_id": "11"}, ["e1", "e3"]),
        ({"object_type": "ca_account"}, ["e2"]),
        ({"channel": "portal"}, ["e4"]),
        ({"since": "t1", "until": "t2"}, ["e2", "e3", "e4"]),
        ({"since": "t1", "until": "t2", "actor": "alice@alpha.test"}, ["e2"]),
    ],
)
def test_filters_select_the_events(log, query, expected):
    values = {"alice-id": str(log.alice.pk), "t1": log.t1.isoformat(), "t2": log.t2.isoformat()}
    params = {name: values.get(value, value) for name, value in query.items()}
    body = log.clients["alpha"].get("/api/audit", params).json()
    assert [event["id"] for event in body["results"]] == ids_of(log, *expected)
    assert body["count"] == len(expected)


def test_until_alone_and_a_date_alone(log):
    alpha = log.clients["alpha"]
    before = alpha.get("/api/audit", {"until": log.t1.isoformat(), "action": "certificate."}).json()["results"]
    assert [event["id"] for event in before] == ids_of(log, "e1")
    today = alpha.get("/api/audit", {"since": f"{log.t1:%Y-%m-%d}", "actor": "bob@alpha.test"}).json()["results"]
    assert [event["id"] for event in today] == ids_of(log, "e4")


def test_the_list_is_paged_newest_first(log):
    alpha = log.clients["alpha"]
    whole = alpha.get("/api/audit").json()
    assert set(whole) == {"count", "next", "previous", "results"}
    with tenant_context(Tenant.objects.get(schema_name="alpha")):
        assert whole["count"] == AuditEvent.objects.count()
    assert len(whole["results"]) == min(whole["count"], 100)
    assert [event["id"] for event in whole["results"]][:4] == ids_of(log, "e1", "e2", "e3", "e4")
    page = alpha.get("/api/audit", {"action": "certificate.", "limit": 2}).json()
    assert page["count"] == 3 and [event["id"] for event in page["results"]] == ids_of(log, "e3", "e4")
    assert page["next"] and "offset=2" in page["next"]
    event = alpha.get("/api/audit", {"object_type": "ca_account"}).json()["results"][0]
    assert event["changes"] == {"email": ["a@alpha.test", "b@alpha.test"], "eab_hmac_key": "changed"}
    assert event["actor_name"] == "alice@alpha.test" and event["channel"] == "admin"
    assert event["hash"] == log.events["e2"].hash and event["prev_hash"] == log.events["e2"].prev_hash


# -- bad input ----------------------------------------------------------------------------------------

BAD = [
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-13-01"}, "since"),
    ({"until": "2026-01-01T00:00:00+99:00"}, "until"),
    ({"since": "0001-01-01T00:00:00+01:00"}, "since"),
    ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
    ({"action": "Certificate.Renewed"}, "action"),
    ({"action": "certificate..renewed"}, "action"),
    ({"action": "certificate.renewed;drop"}, "action"),
    ({"action": "a" * 81}, "action"),
    ({"object_type": "CA-Account"}, "object_type"),
    ({"object_id": "x" * 65}, "object_id"),
    ({"object_id": "a\x00b"}, "object_id"),
    ({"channel": "email"}, "channel"),
    ({"actor": "0"}, "actor"),
    ({"actor": "99999999999999999999"}, "actor"),
    ({"actor": "a" * 255}, "actor"),
]


@pytest.mark.parametrize("path", ["/api/audit", "/api/audit/export"])
@pytest.mark.parametrize(("query", "field"), BAD, ids=[f"{next(iter(q))}-{i}" for i, (q, _) in enumerate(BAD)])
def test_bad_filters_are_refused_with_the_field(tenant_a, api_client, path, query, field):
    response = api_client(tenant_a, "admin").get(path, query)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] and body["error"]
    assert list(body["fields"]) == [field]


@pytest.mark.parametrize("query", [{"limit": "ten"}, {"offset": "1e3"}, {"page": "٣"}])
def test_bad_paging_is_refused(tenant_a, api_client, query):
    response = api_client(tenant_a, "operator").get("/api/audit", query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_empty_filters_are_no_filters(log):
    alpha = log.clients["alpha"]
    assert alpha.get("/api/audit", {"actor": "", "since": "", "channel": ""}).json()["count"] >= 4


# -- export -------------------------------------------------------------------------------------------


def _lines(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_export_streams_json_lines_with_their_hashes(log):
    response = log.clients["alpha"].get("/api/audit/export", {"object_type": "certificate", "object_id": "11"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-alpha-')
    lines = _lines(response)
    assert [line["id"] for line in lines] == sorted(ids_of(log, "e1", "e3"))  # oldest first
    for line in lines:
        assert set(line) == {"id", *CHAINED_FIELDS, "prev_hash", "hash"}
        assert link(line["prev_hash"], line) == line["hash"]  # the line alone re-derives its hash
    e1 = log.events["e1"]
    assert (lines[0]["hash"], lines[0]["prev_hash"]) == (e1.hash, e1.prev_hash)
    assert lines[0]["created_at"].endswith("Z") and lines[0]["actor_name"] == "alice@alpha.test"


def test_a_whole_export_is_the_chain_checkable_without_certmate(log):
    """As the README shows: the standard library alone re-derives every hash of an unfiltered export."""
    lines = _lines(log.clients["alpha"].get("/api/audit/export"))
    with tenant_context(Tenant.objects.get(schema_name="alpha")):
        assert len(lines) == AuditEvent.objects.count()
    prev = "0" * 64
    for event in lines:
        fields = {k: v for k, v in event.items() if k not in ("id", "prev_hash", "hash")}
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert event["prev_hash"] == prev
        assert event["hash"] == hashlib.sha256(f"{prev}\n{canonical}".encode()).hexdigest()
        prev = event["hash"]


def test_export_answers_whoever_asks_for_json_lines(log):
    client = log.clients["alpha"]
    ok = client.get("/api/audit/export", {"channel": "portal"}, HTTP_ACCEPT="application/x-ndjson")
    assert ok.status_code == 200 and [line["id"] for line in _lines(ok)] == ids_of(log, "e4")
    refused = client.get("/api/audit/export", {"channel": "fax", "format": "jsonl"}, HTTP_ACCEPT="application/x-ndjson")
    assert refused.status_code == 400 and refused["Content-Type"] == "application/json"
    assert refused.json()["fields"] == {"channel": ['"fax" is not a valid choice.']}


# -- CertMate's /api/activity --------------------------------------------------------------------------


def test_activity_in_certmates_shape(log):
    body = log.clients["alpha"].get("/api/activity", {"limit": 500}).json()
    assert set(body) == {"entries", "count", "limit"} and body["limit"] == 500
    assert body["count"] == len(body["entries"])
    entries = {entry["id"]: entry for entry in body["entries"]}
    ids = [entry["id"] for entry in body["entries"]]
    assert ids == sorted(ids)  # CertMate: the most recent entries, in the order they happened
    e1, e3, e4 = (entries[log.events[name].pk] for name in ("e1", "e3", "e4"))
    assert e1 | {"timestamp": None, "prev_hash": None, "hash": None} == {
        "timestamp": None,
        "operation": "create",
        "resource_type": "certificate",
        "resource_id": "www.alpha.test",
        "status": "success",
        "user": "alice@alpha.test",
        "ip_address": "198.51.100.1",
        "details": {"key_type": [None, "ec256"]},
        "error": None,
        "actor": {"kind": "api_token", "id": log.alice.pk, "label": "alice@alpha.test", "token_prefix": "cm_abc"},
        "trigger": {"cause": "api"},
        "id": log.events["e1"].pk,
        "action": "certificate.requested",
        "channel": "api",
        "object_type": "certificate",
        "object_id": "11",
        "object_name": "www.alpha.test",
        "user_agent": "curl/8.5",
        "prev_hash": None,
        "hash": None,
    }
    assert datetime.fromisoformat(e1["timestamp"]) == log.events["e1"].created_at
    assert e1["hash"] == log.events["e1"].hash
    assert (e3["operation"], e3["user"], e3["ip_address"]) == ("renew", "system", "unknown")
    assert e3["actor"] == {"kind": "system", "id": None, "label": "renewal sweep", "token_prefix": ""}
    assert e3["trigger"] == {"cause": "event"}
    assert (e4["operation"], e4["status"], e4["trigger"]) == ("renew", "failure", {"cause": "manual"})
    assert e4["actor"]["kind"] == "user"


@pytest.mark.parametrize(
    ("limit", "applied"), [(None, 100), ("2", 2), ("0", 1), ("-5", 1), ("100000", 500), ("ten", 100), ("٣", 100)]
)
def test_activity_limit_is_read_as_certmate_reads_it(log, limit, applied):
    body = log.clients["alpha"].get("/api/activity", {} if limit is None else {"limit": limit}).json()
    assert body["limit"] == applied
    assert body["count"] == len(body["entries"]) <= applied
    if applied == 2:
        assert [entry["id"] for entry in body["entries"]] == sorted(ids_of(log, "e3", "e4"))
