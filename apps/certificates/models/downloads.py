"""Who took a private key away: one row per download that contained one. Tenant schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class KeyDownloadFormat(models.TextChoices):
    ZIP = "zip", "ZIP archive"
    JSON = "json", "JSON"
    PRIVKEY = "privkey.pem", "privkey.pem"
    COMBINED = "combined.pem", "combined.pem"
    PFX = "cert.pfx", "cert.pfx (PKCS#12)"


class KeyDownload(models.Model):
    # The identifier, version number and user e-mail are copied so the record outlives the
    # certificate, the version and the user it names.
    certificate = models.ForeignKey(
        "certificates.Certificate", null=True, blank=True, on_delete=models.SET_NULL, related_name="key_downloads"
    )
    version = models.ForeignKey(
        "certificates.CertificateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    identifier = models.CharField(max_length=253, help_text="the certificate's identifier when downloaded")
    version_number = models.PositiveIntegerField(help_text="the version whose key was downloaded")
    format = models.CharField(max_length=20, choices=KeyDownloadFormat.choices)
    key_format = models.CharField(
        max_length=10, blank=True, help_text="pkcs1 or pkcs8 when asked for; empty: as stored"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_email = models.EmailField(blank=True)
    token_prefix = models.CharField(
        max_length=20, blank=True, help_text="the API token's visible prefix; empty for a browser session"
    )
    token_created_by_email = models.EmailField(
        blank=True, help_text="who made the API token, when someone else than its user (delegation)"
    )
    ip_address = models.GenericIPAddressField(
        null=True, blank=True, help_text="the client's address as the server saw it"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "private key download"

    def __str__(self) -> str:
        return f"{self.identifier} v{self.version_number} {self.format} by {self.user_email or 'unknown'}"
