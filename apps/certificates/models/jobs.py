"""A job per operation on a certificate: queued → running → succeeded | failed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobOperation(models.TextChoices):
    ISSUE = "issue", "Issue"
    RENEW = "renew", "Renew"
    REVOKE = "revoke", "Revoke"


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
    # queued: when it may run next (later than created for a retry or a wait); running: until when the
    # worker holds it. A running job past its lease was lost with its worker.
    queued_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    forced = models.BooleanField(default=False, help_text="renew even if not due")
    # A revocation's RFC 5280 reason (its version is ``version``, set when it is asked for).
    revocation_reason = models.CharField(max_length=40, blank=True)
    progress = models.CharField(max_length=200, blank=True, help_text="what a queued job is waiting for")
    sweep = models.ForeignKey(
        "certificates.RenewalSweep", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    output = models.TextField(blank=True, help_text="certbot's output, secrets redacted")
    error = models.TextField(blank=True, help_text="why it failed, in one line")
    # ARI: the certificate this order replaces (its RFC 9773 CertID), sent where the CA supports it.
    replaces = models.CharField(max_length=200, blank=True)
    # The version an issuance or renewal stored, or the version a revocation revokes.
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
        # "job 12: issue example.com (succeeded)": its own number, and the certificate by name (lists of
        # jobs select_related("certificate")).
        return f"job {self.pk or '(new)'}: {self.operation} {self.certificate.identifier} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class RenewalSweep(models.Model):
    """One pass of the renewal sweep over this tenant: what was due and queued. How many renewed or
    failed is read from its jobs."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="when every due job was queued")
    as_of = models.DateTimeField(help_text="the time due-ness was judged at")
    due = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    reaped = models.PositiveIntegerField(default=0, help_text="jobs whose worker was lost, failed and retried")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"sweep {self.started_at:%Y-%m-%d %H:%M:%S}"


class FallbackOrder(models.Model):
    """An order sent to a CA account other than its certificate's own (issuer fallback), issued or not:
    it counts against that account's order window as the account's own jobs do."""

    ca_account = models.ForeignKey("certificates.CaAccount", on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ca_account", "started_at"], name="fallback_order_window_idx")]

    def __str__(self) -> str:
        return f"fallback order at CA account {self.ca_account_id} ({self.started_at:%Y-%m-%d %H:%M:%S})"
