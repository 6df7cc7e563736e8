"""API tokens: bearer secrets of a tenant's users. Tenant schema; only a hash of each is stored."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from apps.accounts.models.users import Role

TOKEN_PREFIX = "cm_"  # noqa: S105 (not a secret: the mark that tells a certmate token apart)
# Characters of a token kept in clear so people can tell their tokens apart (cm_ + 9 random ones).
SHOWN_PREFIX_LENGTH = 12


def token_hash_of(raw: str) -> str:
    # A token carries 256 random bits, so a plain SHA-256 is enough (no salt, no slow hash) and lets
    # the lookup be a single indexed equality.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    role = models.CharField(
        max_length=16, choices=Role.choices, help_text="What the token may do; never more than its user's role"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
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
