"""Notification channels, what they are told (notices) and each delivery. Tenant schema."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.notifications.kinds import DEFAULT_KINDS, ChannelKind, DeliveryStatus
from certmate.fields import EncryptedTextField


def _default_kinds() -> list[str]:
    return list(DEFAULT_KINDS)


class NotificationChannel(models.Model):
    """Somewhere to tell: an e-mail list, a webhook, or an Apprise URL (Slack, Teams, ntfy, ...)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    enabled = models.BooleanField(default=True)
    events = ArrayField(models.CharField(max_length=30), default=_default_kinds, blank=True)
    # Which certificates it hears about; empty: all (CA and digest notices pass every filter).
    certificate_kinds = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    issuers = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    name_patterns = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    # E-mail: who receives it.
    recipients = ArrayField(models.EmailField(max_length=254), default=list, blank=True)
    # Webhook URL or Apprise URL: secret (tokens ride in them), never echoed back; target_hint is what
    # may be shown (scheme and host).
    target = EncryptedTextField(blank=True)
    target_hint = models.CharField(max_length=300, blank=True, editable=False)
    # Webhook: the HMAC-SHA256 key, shown once when made or rotated.
    secret = EncryptedTextField(blank=True, editable=False)
    # A channel that keeps failing is flagged (and says why), not silently dropped.
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    flagged_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_delivery_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Notice(models.Model):
    """One thing to tell, once: ``key`` makes it unique (a certificate event, a version crossing an
    expiry threshold, a week's digest), so a sweep that runs twice tells nothing twice."""

    kind = models.CharField(max_length=30)
    key = models.CharField(max_length=200, unique=True)
    event = models.ForeignKey(
        "certificates.CertificateEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    certificate = models.ForeignKey(
        "certificates.Certificate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What it is about, copied so it outlives the certificate (or names a CA).
    identifier = models.CharField(max_length=253, blank=True)
    certificate_kind = models.CharField(max_length=10, blank=True)
    facts = models.JSONField(default=dict, blank=True, help_text="reason, next retry, threshold, serial, ...")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.identifier}" if self.identifier else self.kind


class Delivery(models.Model):
    """One notice to one channel: its attempts, and how it ended."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="why the last attempt failed, in one line")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker sending it holds it until then; one that died lets it go when that passes.
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["notice", "channel"], name="one_delivery_per_channel")]
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="delivery_due_idx"),
            models.Index(fields=["channel", "-created_at"], name="delivery_channel_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.notice} → {self.channel}: {self.status}"


class ExpiryWarning(models.Model):
    """That a certificate version crossed an expiry threshold (0: expired) and its event was recorded:
    each (version, threshold) warns once."""

    version = models.ForeignKey("certificates.CertificateVersion", on_delete=models.CASCADE, related_name="+")
    threshold_days = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "threshold_days"], name="one_warning_per_threshold")]

    def __str__(self) -> str:
        return f"version {self.version_id}: {self.threshold_days} days"
