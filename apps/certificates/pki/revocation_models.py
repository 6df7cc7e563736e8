"""What a private CA publishes about revocation: its CRLs, its delegated OCSP responder certificates,
and bulk revocations run as one job. Tenant schema."""

from __future__ import annotations

from django.db import models

from apps.certificates.bulk import BulkOperation, BulkStatus
from apps.certificates.pki.models import CertificateAuthority
from certmate.fields import EncryptedTextField


class RevocationList(models.Model):
    """One CRL a CA signed: its number (monotonic per CA), its validity, its DER. The newest is served."""

    authority = models.ForeignKey(CertificateAuthority, on_delete=models.CASCADE, related_name="crls")
    number = models.PositiveBigIntegerField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField()
    entries = models.PositiveIntegerField(default=0)
    der = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["authority", "-number"]
        constraints = [models.UniqueConstraint(fields=["authority", "number"], name="crl_number_per_ca")]

    def __str__(self) -> str:
        return f"{self.authority.name} CRL #{self.number}"


class OcspResponder(models.Model):
    """A CA's delegated OCSP signer: a short-lived certificate (id-kp-OCSPSigning, OCSP no-check) the
    CA signed, with its own key, so the CA's key is never used online. The newest valid one signs."""

    authority = models.ForeignKey(CertificateAuthority, on_delete=models.CASCADE, related_name="ocsp_responders")
    private_key = EncryptedTextField(editable=False)
    certificate_pem = models.TextField(editable=False)
    serial = models.CharField(max_length=64, editable=False)
    not_before = models.DateTimeField(editable=False)
    not_after = models.DateTimeField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["authority", "-not_after"]

    def __str__(self) -> str:
        return f"{self.authority.name} OCSP responder until {self.not_after:%Y-%m-%d}"


BulkRevocationStatus = BulkStatus  # its name before bulk reissues shared it


class BulkRevocation(BulkOperation):
    """Revoke every certificate a selector matches (of a subject, of a profile, issued before a date),
    as one job: its progress and a result per certificate version."""

    authority = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="bulk_revocations")
    # {"subject": "<common name>"} | {"profile": "<name>"} | {"issued_before": "<ISO date>"} (combinable)
    selector = models.JSONField(default=dict)
    reason = models.CharField(max_length=40)
    invalidity_date = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    revoked = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # One entry per version handled: {identifier, version, serial, status, error}.
    results = models.JSONField(default=list, editable=False)

    class Meta(BulkOperation.Meta):
        pass

    def __str__(self) -> str:
        return f"bulk revocation {self.pk} of {self.authority.name}"
