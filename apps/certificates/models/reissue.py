"""Bulk renew-and-revoke: after a CA distrust or a key compromise, renew every certificate a selector
matches, optionally revoking the old versions once their replacements are live. Tenant schema."""

from __future__ import annotations

from django.db import models

from apps.certificates.bulk import BulkOperation, BulkStatus

ReissueStatus = BulkStatus  # a bulk reissue moves through the same states as a bulk revocation


class BulkReissue(BulkOperation):
    """One bulk reissue: what it selected, whether it revokes the old versions, and its progress."""

    # {"ca_account": name, "issuer": text in the issuer DN, "key_type": ..., "names": glob} (combinable)
    selector = models.JSONField(default=dict)
    revoke_old = models.BooleanField(default=False)
    reason = models.CharField(max_length=40, blank=True, help_text="the revocation reason, with revoke_old")
    total = models.PositiveIntegerField(default=0)
    renewed = models.PositiveIntegerField(default=0)
    revoked = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta(BulkOperation.Meta):
        pass

    def __str__(self) -> str:
        return f"bulk reissue {self.pk}"


class ReissueItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # not ordered yet (waiting for the CA account's order limit)
    RENEWING = "renewing", "Renewing"  # its renewal job is queued or running
    PUBLISHING = "publishing", "Publishing"  # renewed; waiting for the new version to be published
    REVOKING = "revoking", "Revoking"  # the old version's revocation job is queued or running
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ITEM_FINAL = (ReissueItemStatus.DONE, ReissueItemStatus.FAILED)


class ReissueItem(models.Model):
    """One certificate of a bulk reissue: its old version, the job renewing it, the new version, the
    revocation of the old one, and the result."""

    bulk = models.ForeignKey(BulkReissue, on_delete=models.CASCADE, related_name="items")
    certificate = models.ForeignKey("certificates.Certificate", on_delete=models.CASCADE, related_name="+")
    old_version = models.ForeignKey(
        "certificates.CertificateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    new_version = models.ForeignKey(
        "certificates.CertificateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    renewal_job = models.ForeignKey(
        "certificates.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revocation_job = models.ForeignKey(
        "certificates.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=ReissueItemStatus.choices, default=ReissueItemStatus.PENDING)
    error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bulk", "id"]
        constraints = [models.UniqueConstraint(fields=["bulk", "certificate"], name="reissue_certificate_once")]

    def __str__(self) -> str:
        return f"bulk reissue {self.bulk_id}: {self.certificate.identifier} ({self.status})"
