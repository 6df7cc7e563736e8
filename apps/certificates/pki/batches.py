"""A batch of certificates issued from one private CA as one job: its rows, its progress and a result
per row. Tenant schema. The idempotency key makes sending the same batch twice create it once."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from apps.certificates.pki.models import CertificateAuthority, CertificateProfile

IDEMPOTENCY_KEY = r"[A-Za-z0-9._:-]{1,100}"


class BatchStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"  # every row issued
    FAILED_PARTIALLY = "failed-partially", "Failed partially"  # some rows issued, some refused
    FAILED = "failed", "Failed"  # no row issued


class IssuanceBatch(models.Model):
    idempotency_key = models.CharField(max_length=100, unique=True, validators=[RegexValidator(f"^{IDEMPOTENCY_KEY}$")])
    authority = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="batches")
    # Rows that name no profile use this one (else the CA's "client" profile).
    profile = models.ForeignKey(CertificateProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    # The rows as submitted, cleaned (what the job issues), and their SHA-256 with the CA and profile:
    # the same key sent with anything else is refused.
    rows = models.JSONField(default=list, editable=False)
    rows_sha256 = models.CharField(max_length=64, editable=False)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # One entry per finished row, in row order: {row, identifier (or None), status, error}.
    results = models.JSONField(default=list, editable=False)
    # Who asked, as the audit log records the certificates the job issues on their behalf.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=254, blank=True)
    requested_channel = models.CharField(max_length=10, blank=True)
    requested_token_prefix = models.CharField(max_length=20, blank=True)
    requested_ip = models.CharField(max_length=45, blank=True)
    requested_user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "issuance batch"
        verbose_name_plural = "issuance batches"

    def __str__(self) -> str:
        return f"batch {self.idempotency_key}"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None
