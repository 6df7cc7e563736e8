"""A job per operation on a certificate: queued → running → succeeded | failed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobOperation(models.TextChoices):
    ISSUE = "issue", "Issue"
    RENEW = "renew", "Renew"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Job(models.Model):
    certificate = models.ForeignKey("certificates.Certificate", on_delete=models.CASCADE, related_name="jobs")
    operation = models.CharField(max_length=10, choices=JobOperation.choices)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    output = models.TextField(blank=True, help_text="certbot's output, secrets redacted")
    error = models.TextField(blank=True, help_text="why it failed, in one line")
    version = models.ForeignKey(
        "certificates.CertificateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one job per certificate is queued or running: a second request joins the first.
            models.UniqueConstraint(
                fields=["certificate"],
                condition=Q(status__in=["queued", "running"]),
                name="one_open_job_per_certificate",
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.certificate_id} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
