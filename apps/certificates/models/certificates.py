"""Certificates and their versions (one per issuance). Tenant schema."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.certificates.acme.models import CaAccount, DnsAccount
from certmate.fields import EncryptedTextField


class KeyType(models.TextChoices):
    RSA2048 = "rsa2048", "RSA 2048"
    RSA3072 = "rsa3072", "RSA 3072"
    RSA4096 = "rsa4096", "RSA 4096"
    EC256 = "ec256", "ECDSA P-256"
    EC384 = "ec384", "ECDSA P-384"


# What a private CA's key and a private certificate's may be: ACME's key types, and Ed25519.
CaKeyType = models.TextChoices(
    "CaKeyType", [*((kind.name, (kind.value, kind.label)) for kind in KeyType), ("ED25519", ("ed25519", "Ed25519"))]
)


class CertificateKind(models.TextChoices):
    SERVER = "server", "Server"
    CLIENT = "client", "Client"


class Challenge(models.TextChoices):
    DNS_01 = "dns-01", "DNS-01"
    HTTP_01 = "http-01", "HTTP-01"


class CertificateStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # asked for, no version yet
    ACTIVE = "active", "Active"  # has a current version
    FAILED = "failed", "Failed"  # the last job failed (a current version, if any, is still served)
    NEEDS_CSR = "needs_csr", "Needs a new CSR"  # private, CSR-based, due, and its profile forbids re-signing


class Certificate(models.Model):
    kind = models.CharField(max_length=10, choices=CertificateKind.choices, default=CertificateKind.SERVER)
    identifier = models.CharField(
        max_length=253,
        help_text="ACME: the primary domain (A-label); private CA: the certificate's name (a person, device, service)",
    )
    san_domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    # The private CA engine's: which CA issues it under which profile, what it asks for (subject fields,
    # typed SANs as openssl writes them: DNS:x, IP:x, email:x, URI:x), and the requester's CSR when the
    # key never leaves them (then its versions hold no private key).
    authority = models.ForeignKey(
        "certificates.CertificateAuthority", null=True, blank=True, on_delete=models.PROTECT,
        related_name="certificates",
    )  # fmt: skip
    profile = models.ForeignKey(
        "certificates.CertificateProfile", null=True, blank=True, on_delete=models.PROTECT,
        related_name="certificates",
    )  # fmt: skip
    subject_fields = models.JSONField(default=dict, blank=True)
    alt_names = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    csr_pem = models.TextField(blank=True)
    validity_days = models.PositiveIntegerField(null=True, blank=True)
    usage = models.CharField(max_length=40, blank=True, help_text="CertMate's cert_usage (vpn, api-mtls, ...)")
    notes = models.TextField(blank=True)
    # ACME takes a KeyType; the private CA also Ed25519.
    key_type = models.CharField(max_length=10, choices=CaKeyType.choices, default=KeyType.EC256)
    ca_account = models.ForeignKey(
        CaAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    dns_account = models.ForeignKey(
        DnsAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    challenge = models.CharField(max_length=10, choices=Challenge.choices, default=Challenge.DNS_01)
    # HTTP-01 only: a folder (under one of CERTMATE_WEBROOT_ROOTS) the token is written into for a web
    # server to serve; empty: certmate answers /.well-known/acme-challenge/ itself.
    webroot = models.CharField(max_length=500, blank=True)
    # The ACME profile asked for in each order (one the CA account's directory lists); empty: the CA's.
    acme_profile = models.CharField("ACME profile", max_length=64, blank=True)
    # Issuer fallback: CA accounts tried in order after ca_account (empty: the tenant's default chain).
    fallback_ca_accounts = models.ManyToManyField(
        CaAccount, through="CertificateFallback", related_name="fallback_for", blank=True
    )
    # ARI (RFC 9773): the window the CA suggested for renewing the current version, when last asked.
    ari_window_start = models.DateTimeField(null=True, blank=True, editable=False)
    ari_window_end = models.DateTimeField(null=True, blank=True, editable=False)
    ari_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    ari_next_check = models.DateTimeField(null=True, blank=True, editable=False)
    auto_renew = models.BooleanField(default=True)
    renew_before_days = models.PositiveIntegerField(null=True, blank=True, help_text="empty: the tenant's threshold")
    status = models.CharField(max_length=10, choices=CertificateStatus.choices, default=CertificateStatus.PENDING)
    current_version = models.OneToOneField(
        "CertificateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_error = models.TextField(blank=True, editable=False)
    # When the current version is due for renewal (see services.renewals.renew_at_for); kept with the
    # version and the thresholds, so finding what is due is one indexed query.
    renew_at = models.DateTimeField("next renewal", null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["identifier"]
        constraints = [models.UniqueConstraint(fields=["kind", "identifier"], name="certificate_identifier_per_kind")]
        indexes = [models.Index(fields=["renew_at"], condition=Q(auto_renew=True), name="certificate_due_idx")]

    def __str__(self) -> str:
        return self.identifier

    @property
    def names(self) -> list[str]:
        """Every name the certificate covers, the identifier first."""
        return [self.identifier, *self.san_domains]

    @property
    def issuer(self):
        """Who issues it, whatever the engine (see apps.certificates.engines): its private CA, or its ACME
        CA account; None while it names none. ca_account, dns_account and challenge are ACME's."""
        return self.authority if self.authority_id else self.ca_account

    @property
    def is_private(self) -> bool:
        return self.authority_id is not None


class CertificateVersion(models.Model):
    """One issuance: what the certificate itself says, parsed, plus its material."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    serial = models.CharField(max_length=64)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    subject = models.TextField()
    issuer = models.TextField()
    san = ArrayField(models.CharField(max_length=253), default=list)
    key_algorithm = models.CharField(max_length=10)
    key_size = models.PositiveIntegerField()
    key_usage = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    extended_key_usage = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    fingerprint_sha256 = models.CharField(max_length=64)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=40, blank=True)
    # keyCompromise: when the key is known or suspected to have been compromised (RFC 5280 5.3.2).
    invalidity_date = models.DateTimeField(null=True, blank=True)
    certificate_pem = models.TextField()
    chain_pem = models.TextField()
    fullchain_pem = models.TextField()
    private_key = EncryptedTextField(blank=True)  # empty when the key stayed with the requester (a CSR)
    # The private CA that signed it (None for ACME): with the serial, what CRLs and OCSP look up.
    authority = models.ForeignKey(
        "certificates.CertificateAuthority", null=True, blank=True, on_delete=models.PROTECT, related_name="issued"
    )
    # ACME: the CA account whose order issued it (its name kept should the account be deleted).
    ca_account = models.ForeignKey(
        CaAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="issued_versions"
    )
    ca_account_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["certificate", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "number"], name="version_number_per_certificate"),
            models.UniqueConstraint(fields=["fingerprint_sha256"], name="version_fingerprint_unique"),
            models.UniqueConstraint(
                fields=["authority", "serial"], condition=Q(authority__isnull=False), name="version_serial_per_ca"
            ),
        ]
        indexes = [
            models.Index(fields=["not_after"]),
            # A CA's revoked versions, for its CRL.
            models.Index(
                fields=["authority", "revoked_at"], condition=Q(revoked_at__isnull=False), name="version_revoked_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate.identifier} v{self.number}"

    @property
    def has_private_key(self) -> bool:
        """False for a version signed from a CSR: its key never left the requester."""
        return bool(self.private_key)

    @property
    def ca_pem(self) -> str:
        """The CA certificates that vouch for this version (ca.pem): for a private CA's, the issuing CA's
        certificate and the issuers above it up to the root, as a relying party (an mTLS server) trusts
        them; for an ACME one, the chain the CA sent."""
        if self.authority_id is None:
            return self.chain_pem
        authority = self.authority
        return "".join(
            pem if pem.endswith("\n") else pem + "\n" for pem in (authority.certificate_pem, authority.chain_pem) if pem
        )


class CertificateFallback(models.Model):
    """One CA account in a certificate's fallback chain, at its position (tried after ca_account)."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="fallbacks")
    ca_account = models.ForeignKey(CaAccount, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["certificate", "position"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "ca_account"], name="fallback_account_once"),
            models.UniqueConstraint(fields=["certificate", "position"], name="fallback_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.certificate.identifier}: {self.position}. {self.ca_account.name}"
