"""What every bulk operation on certificates shares (a bulk revocation of a private CA, a bulk reissue):
its status, who asked for it, and when it started and finished. Abstract: each has its own table."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BulkStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED_PARTIALLY = "failed-partially", "Failed partially"
    FAILED = "failed", "Failed"


class BulkOperation(models.Model):
    status = models.CharField(max_length=20, choices=BulkStatus.choices, default=BulkStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
