"""CertMate's audit paths over certmate's events, in CertMate's shapes, so CertMate clients keep working:

- ``GET /api/activity?limit=N``: ``{"entries": [...], "count", "limit"}``, the N most recent entries
  (default 100, bounded to 1..500; a limit that is no number counts as 100) in the order they happened.
  Each entry has CertMate's fields (timestamp, operation, resource_type, resource_id, status, user,
  ip_address, details, error, actor{kind, id, label, token_prefix}, trigger{cause}) and certmate's own
  after them (id, action, channel, object_type, object_id, object_name, user_agent, prev_hash, hash).
- ``GET /api/audit/verify``: ``{ok, count, first_seq, last_seq, head_hash, error_seq, reason}`` with 200
  when the chain is intact and 409 when it is broken, plus certmate's ``tenant`` and ``broken_event_id``.
  A seq is an event's position in the tenant's chain, from 0.

Where certmate differs on purpose: /api/activity needs the operator role (CertMate: viewer), as /api/audit
does, since the entries name users and their addresses.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api.audit import AuditAPIView
from apps.accounts.models import Role
from certmate.actors import Channel
from certmate.api.fields import ASCII_INTEGER, IntegerField
from certmate.audit.chain import GENESIS
from certmate.audit.models import AuditEvent
from certmate.audit.selectors import audit_event_list
from certmate.audit.services import ChainReport, audit_verify

DEFAULT_LIMIT, MAX_LIMIT = 100, 500
# certmate's verbs (past tense, after the object type) as CertMate's operations; others pass as they are.
OPERATIONS = {
    "created": "create",
    "requested": "create",
    "issued": "create",
    "imported": "create",
    "updated": "update",
    "role_changed": "update",
    "renewed": "renew",
    "renewal_failed": "renew",
    "revoked": "revoke",
    "deleted": "delete",
    "downloaded": "download",
    "published": "deploy",
    "publication_failed": "deploy",
    "deployed": "deploy",
}
CAUSES = {Channel.API: "api", Channel.SYSTEM: "event"}  # a person at the admin, portal or command: manual


def _verb(event: AuditEvent) -> str:
    return event.action.partition(".")[2] or event.action


class ActivityActorSerializer(serializers.Serializer):
    kind = serializers.SerializerMethodField(
        help_text="user (a signed-in person), api_token (a user through an API token) or system"
    )
    id = IntegerField(source="actor_id", allow_null=True, help_text="The user's id (null for the system)")
    label = serializers.CharField(source="actor_name", help_text="The user's e-mail, or what the system did")
    token_prefix = serializers.CharField(help_text="The API token's prefix, when a token acted (else empty)")

    def get_kind(self, event: AuditEvent) -> str:
        if event.actor_type != "user":
            return "system"
        return "api_token" if event.token_prefix else "user"


class ActivityTriggerSerializer(serializers.Serializer):
    cause = serializers.SerializerMethodField(
        help_text="api (through the API), manual (admin, portal or command) or event (certmate itself)"
    )

    def get_cause(self, event: AuditEvent) -> str:
        return CAUSES.get(event.channel, "manual")


class ActivityEntrySerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField(source="created_at", help_text="When it happened (UTC, ISO 8601)")
    operation = serializers.SerializerMethodField(
        help_text="CertMate's operation: create, update, renew, revoke, delete, download, deploy, or certmate's "
        "verb when CertMate has none"
    )
    resource_type = serializers.CharField(source="object_type", help_text="The object's type (certificate, ...)")
    resource_id = serializers.SerializerMethodField(
        help_text="The object's readable name (a certificate's domain, an account's name), else its id"
    )
    status = serializers.SerializerMethodField(help_text="success, or failure for events that record one")
    user = serializers.SerializerMethodField(help_text="The user's e-mail, or system")
    ip_address = serializers.SerializerMethodField(help_text="The client's address, or unknown")
    details = serializers.JSONField(source="changes", help_text="What changed: {field: [before, after]}")
    error = serializers.SerializerMethodField(help_text="Always null: a refused change records no event")
    actor = ActivityActorSerializer(source="*", help_text="Who acted")
    trigger = ActivityTriggerSerializer(source="*", help_text="What caused it")
    # certmate's own fields
    id = IntegerField(help_text="certmate: the event's id")
    action = serializers.CharField(help_text="certmate: the action (certificate.renewed, ...)")
    channel = serializers.CharField(help_text="certmate: api, admin, portal, command or system")
    object_type = serializers.CharField(help_text="certmate: the object's type")
    object_id = serializers.CharField(help_text="certmate: the object's id")
    object_name = serializers.CharField(help_text="certmate: the object's readable name")
    user_agent = serializers.CharField(help_text="certmate: the client's User-Agent, when a request made it")
    prev_hash = serializers.CharField(help_text="certmate: the hash of the event before")
    hash = serializers.CharField(help_text="certmate: this event's hash in the chain")

    def get_operation(self, event: AuditEvent) -> str:
        return OPERATIONS.get(_verb(event), _verb(event))

    def get_resource_id(self, event: AuditEvent) -> str:
        return event.object_name or event.object_id

    def get_status(self, event: AuditEvent) -> str:
        return "failure" if _verb(event).endswith("_failed") else "success"

    def get_user(self, event: AuditEvent) -> str:
        return event.actor_name if event.actor_type == "user" else "system"

    def get_ip_address(self, event: AuditEvent) -> str:
        return event.ip_address or "unknown"

    @extend_schema_field({"type": "string", "nullable": True})
    def get_error(self, event: AuditEvent) -> None:
        return None


class ActivitySerializer(serializers.Serializer):
    entries = ActivityEntrySerializer(many=True, help_text="The most recent entries, oldest of them first")
    count = IntegerField(help_text="How many entries came")
    limit = IntegerField(help_text="The limit applied (1 to 500)")


def activity_limit(raw: str | None) -> int:
    """CertMate's reading of ?limit=: a number bounded to 1..500, anything else the default."""
    if raw is None or not ASCII_INTEGER.fullmatch(raw.strip()):
        return DEFAULT_LIMIT
    return max(1, min(int(raw), MAX_LIMIT))


@extend_schema(tags=["audit"])
class ActivityView(AuditAPIView):
    required_roles = {"GET": Role.OPERATOR}
    pagination_class = None

    @extend_schema(
        operation_id="activity",
        parameters=[OpenApiParameter("limit", int, description="How many recent entries (1-500; default 100).")],
        responses=ActivitySerializer,
        description="CertMate's activity log: the most recent audit events in CertMate's entry shape, "
        "followed by certmate's own fields. Admins and operators.",
    )
    def get(self, request):
        limit = activity_limit(request.query_params.get("limit"))
        recent = list(audit_event_list()[:limit])[::-1]
        return Response(ActivitySerializer({"entries": recent, "count": len(recent), "limit": limit}).data)


class ChainVerifySerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Whether every event links to the one before and hashes as recorded")
    count = IntegerField(help_text="Events found intact (before the break, when there is one)")
    first_seq = IntegerField(allow_null=True, help_text="0, the first event's position (null: no events)")
    last_seq = IntegerField(allow_null=True, help_text="The last event's position, when intact")
    head_hash = serializers.CharField(
        allow_null=True, help_text="The newest event's hash, when intact (64 zeros: no events yet); else null"
    )
    error_seq = IntegerField(allow_null=True, help_text="The first broken event's position, when broken")
    reason = serializers.CharField(help_text="intact, empty chain, or what is wrong")
    tenant = serializers.CharField(help_text="certmate: the tenant whose chain this is")
    broken_event_id = IntegerField(allow_null=True, help_text="certmate: the first broken event's id")


def verify_document(report: ChainReport) -> dict:
    """A chain report in CertMate's verify shape (and certmate's two fields)."""
    intact = report.ok
    return {
        "ok": intact,
        "count": report.checked,
        "first_seq": 0 if report.checked or not intact else None,
        "last_seq": report.checked - 1 if intact and report.checked else None,
        "head_hash": (report.last_hash if report.checked else GENESIS) if intact else None,
        "error_seq": None if intact else report.checked,
        "reason": ("intact" if report.checked else "empty chain") if intact else report.problem,
        "tenant": report.tenant,
        "broken_event_id": report.broken_id,
    }


@extend_schema(tags=["audit"])
class AuditVerifyView(AuditAPIView):
    required_roles = {"GET": Role.ADMIN}
    pagination_class = None

    @extend_schema(
        operation_id="audit_verify",
        responses={200: ChainVerifySerializer, 409: ChainVerifySerializer},
        description="Checks the tenant's audit chain (CertMate's path and shape): 200 when every event links "
        "to the one before and hashes as recorded, 409 with the first broken event otherwise. Admins.",
    )
    def get(self, request):
        document = verify_document(audit_verify())
        return Response(ChainVerifySerializer(document).data, status=200 if document["ok"] else 409)
