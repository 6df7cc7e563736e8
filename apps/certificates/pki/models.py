"""A tenant's own certificate authorities and the profiles that say what each may issue. Tenant schema;
keys encrypted at rest like every secret."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.certificates.models.certificates import CaKeyType
from certmate.fields import EncryptedTextField

__all__ = ["CaKeyType", "CaOrigin", "CaState", "CertificateAuthority", "CertificateProfile", "ProfileKind", "SanType"]


class CaOrigin(models.TextChoices):
    ROOT = "root", "Root made here"
    INTERMEDIATE = "intermediate", "Intermediate made here"
    IMPORTED = "imported", "Imported (certificate and key brought in)"
    EXTERNAL = "external", "Intermediate signed by an outside root"


class CaState(models.TextChoices):
    PENDING = "pending", "Pending"  # externally signed: key and CSR made, signed certificate not uploaded yet
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"  # issues nothing for now
    RETIRED = "retired", "Retired"  # issues nothing again; what it issued stays valid until it expires


class CertificateAuthority(models.Model):
    name = models.CharField(max_length=100, unique=True)
    origin = models.CharField(max_length=20, choices=CaOrigin.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    state = models.CharField(max_length=10, choices=CaState.choices, default=CaState.ACTIVE)
    # The tenant's default CA: the CertMate client-certificate endpoints issue from it. One at most.
    is_default = models.BooleanField(default=False)
    key_type = models.CharField(max_length=10, choices=CaKeyType.choices)
    private_key = EncryptedTextField(editable=False)
    # Empty while an externally signed intermediate waits for its certificate (its CSR is csr_pem).
    certificate_pem = models.TextField(blank=True, editable=False)
    # The CA's issuers above it, nearest first, up to (and including) the root: what a leaf's chain adds.
    chain_pem = models.TextField(blank=True, editable=False)
    csr_pem = models.TextField(blank=True, editable=False)
    subject = models.TextField(editable=False)
    serial = models.CharField(max_length=64, blank=True, editable=False)
    # Serial policy: random serials of this many bits (at least 64 bits of entropy, RFC 5280 caps at 20 octets).
    serial_bits = models.PositiveSmallIntegerField(default=128)
    not_before = models.DateTimeField(null=True, blank=True, editable=False)
    not_after = models.DateTimeField(null=True, blank=True, editable=False)
    path_length = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    name_constraints = models.JSONField(default=dict, blank=True, editable=False)
    fingerprint_sha256 = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # Revoked by its parent (an intermediate in its root's CRL); it then issues nothing.
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revocation_reason = models.CharField(max_length=40, blank=True, editable=False)
    # The last CRL number this CA used (allocated under a row lock), and how long its CRLs are valid
    # (beat signs a new one at half-life).
    crl_number = models.PositiveBigIntegerField(default=0, editable=False)
    crl_validity_hours = models.PositiveIntegerField(default=168)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "certificate authority"
        verbose_name_plural = "certificate authorities"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_ca"),
            models.CheckConstraint(condition=Q(serial_bits__gte=64, serial_bits__lte=159), name="ca_serial_bits"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_root(self) -> bool:
        return self.parent_id is None and self.origin == CaOrigin.ROOT

    @property
    def can_issue(self) -> bool:
        """Leaves come from active CAs with a certificate, never from a root made here."""
        return self.state == CaState.ACTIVE and bool(self.certificate_pem) and self.origin != CaOrigin.ROOT


class ProfileKind(models.TextChoices):
    SERVER = "server", "Server"
    CLIENT = "client", "Client"
    BOTH = "both", "Server and client"


class SanType(models.TextChoices):
    DNS = "dns", "DNS name"
    IP = "ip", "IP address"
    EMAIL = "email", "E-mail address"
    URI = "uri", "URI"


class CertificateProfile(models.Model):
    """What one CA may issue under this name: enforced before anything is signed, on every path.

    Key usages use RFC 5280's names (digitalSignature, keyEncipherment, ...); extended key usages
    their short names (serverAuth, clientAuth, codeSigning, emailProtection, OCSPSigning) or dotted
    OIDs. ``name_patterns`` maps a SAN type to the patterns its values must match (none: any value):
    DNS ``*.internal.example`` (any name below) or an exact name, e-mail ``@example.com`` (a domain)
    or an address, URI a prefix (``spiffe://example.org/``), IP a network (``10.0.0.0/8``).
    ``subject_copy``: the subject fields taken from a request or CSR (others are dropped);
    ``subject_require``: those a request must give."""

    authority = models.ForeignKey(CertificateAuthority, on_delete=models.CASCADE, related_name="profiles")
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=ProfileKind.choices, default=ProfileKind.CLIENT)
    key_usage = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    extended_key_usage = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    san_types = ArrayField(models.CharField(max_length=10, choices=SanType.choices), default=list, blank=True)
    name_patterns = models.JSONField(default=dict, blank=True)
    key_types = ArrayField(models.CharField(max_length=10, choices=CaKeyType.choices), default=list, blank=True)
    default_key_type = models.CharField(max_length=10, choices=CaKeyType.choices, default=CaKeyType.EC256)
    default_days = models.PositiveIntegerField(default=365)
    max_days = models.PositiveIntegerField(default=825)
    allow_server_key = models.BooleanField("server-side key generation", default=True)
    allow_csr = models.BooleanField("CSR signing", default=True)
    allow_csr_resign = models.BooleanField(
        "renew a CSR's certificate with the same public key", default=False,
        help_text="else a CSR-based certificate needs a new CSR to renew",
    )  # fmt: skip
    subject_copy = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    subject_require = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["authority", "name"]
        constraints = [models.UniqueConstraint(fields=["authority", "name"], name="profile_name_per_ca")]

    def __str__(self) -> str:
        return f"{self.authority.name}/{self.name}"
