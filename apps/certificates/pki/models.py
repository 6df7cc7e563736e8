"""A tenant's own certificate authorities. Tenant schema; keys encrypted at rest like every secret."""

from __future__ import annotations

from django.db import models

from apps.certificates.models.certificates import KeyType
from certmate.fields import EncryptedTextField

# What a CA's key (and a private certificate's) may be: ACME's key types, and Ed25519.
CaKeyType = models.TextChoices(
    "CaKeyType", [*((kind.name, (kind.value, kind.label)) for kind in KeyType), ("ED25519", ("ed25519", "Ed25519"))]
)


class CaOrigin(models.TextChoices):
    ROOT = "root", "Root made here"
    INTERMEDIATE = "intermediate", "Intermediate made here"


class CaState(models.TextChoices):
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"  # issues nothing for now
    RETIRED = "retired", "Retired"  # issues nothing again; what it issued stays valid until it expires


class CertificateAuthority(models.Model):
    name = models.CharField(max_length=100, unique=True)
    origin = models.CharField(max_length=20, choices=CaOrigin.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    state = models.CharField(max_length=10, choices=CaState.choices, default=CaState.ACTIVE)
    key_type = models.CharField(max_length=10, choices=CaKeyType.choices)
    private_key = EncryptedTextField(editable=False)
    certificate_pem = models.TextField(editable=False)
    subject = models.TextField(editable=False)
    serial = models.CharField(max_length=64, editable=False)
    not_before = models.DateTimeField(editable=False)
    not_after = models.DateTimeField(editable=False)
    path_length = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    name_constraints = models.JSONField(default=dict, blank=True, editable=False)
    fingerprint_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "certificate authority"
        verbose_name_plural = "certificate authorities"

    def __str__(self) -> str:
        return self.name

    @property
    def is_root(self) -> bool:
        return self.parent_id is None
