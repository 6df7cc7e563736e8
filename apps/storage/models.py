"""Where a tenant publishes its certificates, and what has been published where. Tenant schema.

The database stays the system of record; a publication only says whether a version has reached the
tenant's storage target, so a target that is down never touches the certificate itself.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.storage.backends import BACKEND_CHOICES, LOCAL
from certmate.fields import EncryptedJSONField


class StorageConfig(models.Model):
    """A storage target: a backend with its settings and (encrypted) credentials. Exactly one is
    active; the others are earlier targets (or a migration's destination until it is switched to)."""

    backend = models.CharField(max_length=40, choices=BACKEND_CHOICES, default=LOCAL)
    settings = models.JSONField(default=dict, blank=True, help_text="the backend's settings (no secrets)")
    credentials = EncryptedJSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=False)
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_active", "-created_at"]
        verbose_name = "storage configuration"
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_storage")
        ]

    def __str__(self) -> str:
        return f"{self.get_backend_display()}{' (active)' if self.is_active else ''}"


class PublicationState(models.TextChoices):
    PENDING = "pending", "Pending"  # not there yet: queued or waiting for a retry
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"  # gave up retrying; `storage resync` tries again
    SUPERSEDED = "superseded", "Superseded"  # a newer version was published before this one got there


class Publication(models.Model):
    version = models.ForeignKey(
        "certificates.CertificateVersion", on_delete=models.CASCADE, related_name="publications"
    )
    target = models.ForeignKey(StorageConfig, on_delete=models.CASCADE, related_name="publications")
    state = models.CharField(max_length=12, choices=PublicationState.choices, default=PublicationState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["version", "target"], name="one_publication_per_target")]
        indexes = [models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="publication_due_idx")]

    def __str__(self) -> str:
        return f"{self.version} → {self.target.get_backend_display()}: {self.state}"
