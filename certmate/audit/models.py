"""Audit events. Tenant schema: a tenant's events form one hash chain, in ``id`` order.

Rows are append-only: a trigger refuses UPDATE and DELETE (see migration 0001). Each row keeps the
SHA-256 of its canonical form chained to the previous row's (``certmate.audit.chain``), so a row
edited or removed behind the trigger's back breaks the chain where it was changed.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from certmate.actors import Channel


class AuditEvent(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    tenant = models.CharField(max_length=63, help_text="the tenant's slug (its schema)")
    actor_type = models.CharField(max_length=10, help_text="user or system")
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="the user's id, when a user acted")
    actor_name = models.CharField(max_length=254, blank=True, help_text="the user's e-mail, or what the system did")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_name = models.CharField(max_length=300, blank=True, help_text="a readable name that outlives the object")
    changes = models.JSONField(default=dict, blank=True, help_text="field: [before, after]; secrets as 'changed'")
    ip_address = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    token_prefix = models.CharField(max_length=20, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "audit event"
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor_type", "actor_id"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_name} by {self.actor_name}"
