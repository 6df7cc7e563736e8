"""What a tenant orders from ACME CAs with: its CA accounts and DNS provider accounts. Tenant schema.

The tables keep the names they had when these models lived in apps.accounts."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.accounts.validators import validate_contact_email, validate_eab_kid
from certmate.fields import EncryptedJSONField, EncryptedTextField

# Directory URLs of well-known ACME CAs. Any other directory can be given as a custom URL.
CA_PRESETS = {
    "letsencrypt": ("Let's Encrypt", "https://acme-v02.api.letsencrypt.org/directory"),
    "letsencrypt_staging": ("Let's Encrypt (staging)", "https://acme-staging-v02.api.letsencrypt.org/directory"),
    "zerossl": ("ZeroSSL", "https://acme.zerossl.com/v2/DV90"),
    "google": ("Google Trust Services", "https://dv.acme-v02.api.pki.goog/directory"),
    "google_staging": ("Google Trust Services (staging)", "https://dv.acme-v02.test-api.pki.goog/directory"),
    "sslcom": ("SSL.com", "https://acme.ssl.com/sslcom-dv-ecc"),
    "digicert": ("DigiCert", "https://acme.digicert.com/v2/acme/directory/"),
    "actalis": ("Actalis", "https://acme-api.actalis.com/acme/directory"),
}


class CaAccount(models.Model):
    """An account at an ACME CA. The ACME account itself (key and registration) is created on first
    use and kept here, so every order from any worker reuses it."""

    name = models.CharField(max_length=100, unique=True)
    directory_url = models.URLField("ACME directory URL", max_length=500)
    email = models.EmailField("contact e-mail", validators=[validate_contact_email])
    eab_kid = models.CharField("EAB key id", max_length=500, blank=True, validators=[validate_eab_kid])
    eab_hmac_key = EncryptedTextField("EAB HMAC key", blank=True, default="")
    trust_bundle = models.TextField(
        blank=True, help_text="PEM CA certificates to trust for a private ACME server's HTTPS endpoint"
    )
    is_default = models.BooleanField(default=False)
    # Certbot's account files (private_key.json, regr.json, meta.json), from its first registration.
    acme_account = EncryptedJSONField(null=True, blank=True, editable=False)
    acme_account_uri = models.URLField(max_length=500, blank=True, editable=False)
    registered_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Issuer fallback: the tenant's default chain of CA accounts tried, in this order, after a
    # certificate's own CA account failed for a reason another CA could fix (None: not in the chain).
    fallback_position = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="position in the tenant's default fallback chain (empty: not in it)"
    )
    # What the CA's directory advertised when last read: its ACME profiles ({name: description}) and
    # its ARI base URL (RFC 9773 renewalInfo; empty: the CA has no ARI).
    profiles = models.JSONField(default=dict, blank=True, editable=False)
    renewal_info_url = models.URLField("ARI renewalInfo URL", max_length=500, blank=True, editable=False)
    directory_read_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_caaccount"
        ordering = ["name"]
        verbose_name = "CA account"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_ca_account")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_eab(self) -> bool:
        return bool(self.eab_kid and self.eab_hmac_key)

    @property
    def preset(self) -> str | None:
        """The CA preset whose directory this account uses (letsencrypt, zerossl, ...), if any."""
        return next((key for key, (_, url) in CA_PRESETS.items() if url == self.directory_url), None)


class PropagationCheck(models.TextChoices):
    # Ask the zone's authoritative nameservers until every one shows every challenge record, at most
    # the propagation time; or sleep the propagation time (providers behind split-horizon DNS).
    ACTIVE = "active", "Check the authoritative nameservers"
    FIXED = "fixed", "Wait the propagation time"


class DnsAccount(models.Model):
    """Credentials for one account at a DNS provider (several per provider, one default each)."""

    name = models.CharField(max_length=100)
    provider = models.CharField(max_length=50)
    credentials = EncryptedJSONField(default=dict)
    propagation_seconds = models.PositiveIntegerField(null=True, blank=True)
    propagation_check = models.CharField(
        max_length=10, choices=PropagationCheck.choices, default=PropagationCheck.ACTIVE
    )
    # The nameservers to ask instead of the zone's NS records ("address" or "address:port").
    check_nameservers = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_dnsaccount"
        ordering = ["provider", "name"]
        verbose_name = "DNS account"
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="dns_account_name_per_provider"),
            models.UniqueConstraint(
                fields=["provider"], condition=Q(is_default=True), name="one_default_dns_account_per_provider"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.name}"
