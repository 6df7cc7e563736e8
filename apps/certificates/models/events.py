"""Certificate events: what happened to a certificate, written in the transaction that made it happen,
and delivered from there to the consumers that subscribed (storage publication, notifications).
Tenant schema.

An event is a row, not an in-process signal: a worker that dies after the commit loses nothing, since
unprocessed rows are found again (a partial index keeps finding them cheap however many are done).
Each consumer's delivery is a row of its own, written in the same transaction as the consumer's
work, so a consumer gets each event once in effect even when processing is interrupted and repeated.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.certificates.models.certificates import CertificateKind


class EventKind(models.TextChoices):
    ISSUED = "issued", "Issued"  # a certificate's first version became current
    RENEWED = "renewed", "Renewed"  # a later version became current
    ISSUE_FAILED = "issue_failed", "Issuance failed"  # for good: no attempts left, or a permanent refusal
    RENEWAL_FAILED = "renewal_failed", "Renewal failed"  # for good; the current version stays current
    REVOKED = "revoked", "Revoked"
    DELETED = "deleted", "Deleted"
    PUBLICATION_FAILED = "publication_failed", "Publication failed"  # storage gave up retrying
    EXPIRING = "expiring", "Expiring"  # crossed one of the tenant's expiry warning thresholds (detail: days)
    EXPIRED = "expired", "Expired"  # its current version's notAfter passed
    KEY_DOWNLOADED = "key_downloaded", "Private key downloaded"


class CertificateEvent(models.Model):
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    # The identifier, kind and version number are copied so the event outlives the certificate (a
    # deleted certificate's event names what was deleted).
    certificate = models.ForeignKey(
        "certificates.Certificate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,  # event_certificate_idx leads with it
    )
    identifier = models.CharField(max_length=253)
    certificate_kind = models.CharField(max_length=10, choices=CertificateKind.choices)
    version = models.ForeignKey(
        "certificates.CertificateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version_number = models.PositiveIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True, help_text="a few facts: reason, serial, target")
    created_at = models.DateTimeField(default=timezone.now)
    # Null until every consumer of its kind has it. Until then it is due at next_attempt_at: when it
    # was made, later when a consumer failed and waits for its retry.
    processed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "certificate event"
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], condition=Q(processed_at__isnull=True), name="event_due_idx"
            ),
            models.Index(fields=["certificate", "-created_at"], name="event_certificate_idx"),
        ]

    def __str__(self) -> str:
        version = f" v{self.version_number}" if self.version_number else ""
        return f"{self.identifier}{version} {self.kind}"


class EventDelivery(models.Model):
    """One consumer's receipt of one event: delivered once ``delivered_at`` is set. A consumer that
    failed has a row without it, saying how often and why, and when it is tried again."""

    event = models.ForeignKey(CertificateEvent, on_delete=models.CASCADE, related_name="deliveries")
    consumer = models.CharField(max_length=100)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event", "consumer"]
        verbose_name_plural = "event deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "consumer"], name="one_delivery_per_consumer")]

    def __str__(self) -> str:
        return f"{self.event} → {self.consumer}: {'delivered' if self.delivered_at else 'pending'}"
