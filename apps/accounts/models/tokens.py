"""API tokens: bearer secrets of a tenant's users. Tenant schema; only a hash of each is stored."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from apps.accounts.models.users import Role
from certmate.fields import EncryptedTextField

TOKEN_PREFIX = "cm_"  # noqa: S105 (not a secret: the mark that tells a certmate token apart)
# Characters of a token kept in clear so people can tell their tokens apart (cm_ + 9 random ones).
SHOWN_PREFIX_LENGTH = 12


def token_hash_of(raw: str) -> str:
    # A token carries 256 random bits, so a plain SHA-256 is enough (no salt, no slow hash) and lets
    # the lookup be a single indexed equality.
    return hashlib.sha256(raw.encode()).hexdigest()


def certmate_hmac_of(raw: str, key: str) -> str:
    """The hash CertMate 2.x kept of a token: HMAC-SHA256 keyed by its own secret key."""
    return hmac.new(key.encode(), raw.encode(), hashlib.sha256).hexdigest()


class TokenHash(models.TextChoices):
    """How ``token_hash`` was made: certmate's own tokens are SHA-256; tokens imported from CertMate keep
    the hash CertMate kept (plain SHA-256 from older installs, else HMAC-SHA256 with its secret key)."""

    SHA256 = "sha256", "SHA-256"
    CERTMATE_HMAC = "certmate-hmac", "CertMate HMAC-SHA256"


class CertmateTokenKey(models.Model):
    """The secret key a CertMate install hashed its API tokens with, kept (encrypted) only to check the
    tokens imported from it. One per tenant schema."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    key = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "CertMate token key"
        constraints = [models.CheckConstraint(condition=models.Q(singleton=True), name="certmate_token_key_singleton")]

    def __str__(self) -> str:
        return "CertMate token key"


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    role = models.CharField(
        max_length=16, choices=Role.choices, help_text="What the token may do; never more than its user's role"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hash_scheme = models.CharField(max_length=16, choices=TokenHash.choices, default=TokenHash.SHA256, editable=False)
    prefix = models.CharField(max_length=SHOWN_PREFIX_LENGTH, db_index=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="who made it, when an admin made it for someone else (empty: the command line)",
    )
    # Which certificates it may see and pull: exact names and "*." patterns (CertMate's allowed_domains);
    # empty: all the role allows. Enforced on every certificate endpoint; a scoped token never widens it.
    allowed_domains = ArrayField(models.CharField(max_length=253), default=list, blank=True, size=100)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})" if self.name else f"{self.prefix}…"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def effective_role(self) -> Role:
        """The lower of the token's role and its user's current role (a demoted user's tokens follow)."""
        return min(Role(self.role), Role(self.user.role), key=lambda role: role.rank)
