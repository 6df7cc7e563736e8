"""/api/audit: the tenant's audit log, newest first (admins and operators), and its export as JSON lines
(admins). CertMate's paths over the same events (/api/activity, /api/audit/verify) are in audit_certmate.

Filters are validated here once (AuditFilterSerializer, which `manage.py audit export` uses too) and
applied by certmate.audit.selectors.
"""

from __future__ import annotations

from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django_tenants.utils import schema_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from apps.accounts.models import Role
from certmate.actors import Channel
from certmate.api.fields import ASCII_INTEGER
from certmate.api.pagination import OptionalPagination
from certmate.api.views import TenantAPIMixin
from certmate.audit.models import AuditEvent
from certmate.audit.selectors import audit_event_lines, audit_event_list

JSON_LINES = "application/x-ndjson"
MAX_USER_ID = 2**63 - 1
ACTION = r"^[a-z0-9_]+(\.[a-z0-9_]+)*\.?$"  # certificate.renewed, or certificate. for every certificate action
OBJECT_TYPE = r"^[a-z0-9_]+$"
TIME_HELP = "ISO 8601, e.g. 2026-05-01T00:00:00Z or 2026-05-01 (a time without offset is UTC; write + as %2B in a URL)."


class AuditFilterSerializer(serializers.Serializer):
    """What the list, the export and `manage.py audit export` filter by; every filter given must match."""

    actor = serializers.CharField(
        max_length=254,
        required=False,
        help_text="A user's id (digits), or the actor's name: a user's e-mail or what the system did (any case).",
    )
    action = serializers.RegexField(
        ACTION,
        max_length=80,
        required=False,
        help_text="An action (certificate.renewed), or every action of an object type with a trailing dot "
        "(certificate.).",
        error_messages={"invalid": "give an action such as certificate.renewed, or a prefix such as certificate."},
    )
    object_type = serializers.RegexField(
        OBJECT_TYPE,
        max_length=60,
        required=False,
        help_text="The object's type: certificate, ca_account, dns_account, user, api_token, ...",
        error_messages={"invalid": "give a type in lowercase letters, digits and _ (e.g. ca_account)"},
    )
    object_id = serializers.CharField(max_length=64, required=False, help_text="The object's id, with object_type.")
    channel = serializers.ChoiceField(Channel.choices, required=False, help_text="The face the change came through.")
    since = serializers.DateTimeField(required=False, help_text=f"Events at or after this time. {TIME_HELP}")
    until = serializers.DateTimeField(required=False, help_text=f"Events before this time. {TIME_HELP}")

    def validate_actor(self, value: str) -> int | str:
        if not ASCII_INTEGER.fullmatch(value):
            return value
        number = int(value)
        if not 1 <= number <= MAX_USER_ID:
            raise serializers.ValidationError("a user's id is a whole number from 1")
        return number

    def validate(self, attrs: dict) -> dict:
        if "since" in attrs and "until" in attrs and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": "must be later than since"})
        return attrs


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = (
            "id", "created_at", "actor_type", "actor_id", "actor_name", "channel", "action", "object_type",
            "object_id", "object_name", "changes", "ip_address", "user_agent", "token_prefix", "tenant",
            "prev_hash", "hash",
        )  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The event's id: events are chained in id order"},
            "created_at": {"help_text": "When the change was made"},
            "channel": {"help_text": "The face it came through: api, admin, portal, command or system"},
            "action": {"help_text": "What was done: <object_type>.<verb>, e.g. certificate.renewed"},
            "object_type": {"help_text": "The type of the object changed (certificate, ca_account, ...)"},
            "object_id": {"help_text": "The object's id (it may no longer exist)"},
            "ip_address": {"help_text": "The client's address, when the change came with a request"},
            "user_agent": {"help_text": "The client's User-Agent, when the change came with a request"},
            "token_prefix": {"help_text": "The API token's prefix, when a token made the change"},
            "prev_hash": {"help_text": "The hash of the event before this one (64 zeros for the first)"},
            "hash": {"help_text": "SHA-256 of prev_hash and this event's canonical form"},
        }


class AuditPagination(OptionalPagination):
    """Always a page, newest first: the log only grows. Without paging parameters, the newest 100."""

    def paginate_queryset(self, queryset, request, view=None):
        page = super().paginate_queryset(queryset, request, view)
        if page is None:
            limit_offset = self.styles[0][0]
            self.pager = limit_offset()
            page = self.pager.paginate_queryset(queryset, request, view)
        return page

    def get_paginated_response_schema(self, schema):
        return self.paged_schema(schema)


class AuditAPIView(TenantAPIMixin, GenericAPIView):
    # The selector reads the events; these name the model and its shape for the schema.
    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer

    def filters(self) -> dict:
        return self.validated(AuditFilterSerializer, self.request.query_params)


@extend_schema(tags=["audit"])
class AuditListView(AuditAPIView):
    required_roles = {"GET": Role.OPERATOR}
    pagination_class = AuditPagination

    @extend_schema(
        operation_id="audit_list",
        parameters=[AuditFilterSerializer],
        responses=AuditEventSerializer(many=True),
        description="The tenant's audit log, newest first, a page at a time (100 unless limit/offset or "
        "page/page_size say otherwise; at most 500). Admins and operators.",
    )
    def get(self, request):
        page = self.paginate_queryset(audit_event_list(**self.filters()))
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


def _streamed_in(schema: str, lines):
    # The response is read after the view returns, maybe in another thread (ASGI): its rows are read in
    # the tenant's schema whatever the connection holds by then.
    with schema_context(schema):
        yield from lines


@extend_schema(tags=["audit"])
class AuditExportView(AuditAPIView):
    required_roles = {"GET": Role.ADMIN}
    pagination_class = None

    def perform_content_negotiation(self, request, force=False):
        # The lines are answered whatever Accept (or ?format=) asks for; an error is the API's JSON.
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type

    @extend_schema(
        operation_id="audit_export",
        parameters=[AuditFilterSerializer],
        responses={
            (200, JSON_LINES): OpenApiResponse(
                OpenApiTypes.STR,
                description="One event per line, oldest first, with the fields of /api/audit (the time in UTC "
                "with microseconds, as the hash covers it): each line's hash can be recomputed from the line.",
            )
        },
        description="The events matching the filters as JSON lines, streamed (any size). Admins.",
    )
    def get(self, request):
        events = audit_event_list(**self.filters())
        schema = connection.schema_name
        response = StreamingHttpResponse(_streamed_in(schema, audit_event_lines(events)), content_type=JSON_LINES)
        filename = f"audit-{schema}-{timezone.now():%Y%m%dT%H%M%SZ}.jsonl"
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
        return response
