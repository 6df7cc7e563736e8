"""The tenant's defaults for its certificates. Tenant schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import urlsplit

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import Q

from apps.accounts.validators import validate_contact_email
from apps.certificates.acme.models import CaAccount, DnsAccount
from apps.certificates.models.certificates import KeyType

# The settings held by TenantSettings.held() in this thread: (schema, settings).
_HELD: ContextVar[tuple[str, TenantSettings] | None] = ContextVar("tenant_settings_held", default=None)


def validate_public_base_url(value: str) -> None:
    """An http(s) origin, optionally with a path prefix: no credentials, query or fragment (it goes into
    every certificate the tenant's CAs sign)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValidationError("use an http:// or https:// URL with a host name and no user or password",
                              code="invalid")  # fmt: skip
    if parts.query or parts.fragment or any(ord(ch) < 33 or ord(ch) > 126 for ch in value):
        raise ValidationError("no query, fragment, spaces or non-ASCII characters", code="invalid")


def default_expiry_warning_days() -> list[int]:
    return [30, 14, 7, 1]


class TenantSettings(models.Model):
    """The tenant's defaults; one row per tenant schema."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    contact_email = models.EmailField(blank=True, validators=[validate_contact_email])
    default_ca_account = models.ForeignKey(
        CaAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_dns_account = models.ForeignKey(
        DnsAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_key_type = models.CharField(max_length=10, choices=KeyType.choices, default=KeyType.EC256)
    auto_renew_default = models.BooleanField(default=True)
    renewal_threshold_days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    # How many days before expiry a certificate's channels are warned, each threshold once per version.
    expiry_warning_days = ArrayField(
        models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(365)]),
        default=default_expiry_warning_days, size=10, blank=True,
        help_text="days before expiry to warn, e.g. 30, 14, 7, 1 (empty: no warnings)",
    )  # fmt: skip
    # Where relying parties reach this tenant's public PKI URLs (CRLs, OCSP, CA certificates), e.g.
    # https://pki.example.com behind a proxy; empty: https://<the tenant's primary domain>.
    public_base_url = models.URLField(
        "public base URL", max_length=200, blank=True, validators=[validate_public_base_url],
        help_text="where relying parties fetch CRLs, OCSP and CA certificates (empty: https://<primary domain>)",
    )  # fmt: skip

    class Meta:
        db_table = "accounts_tenantsettings"  # its name from when it lived in apps.accounts
        verbose_name = verbose_name_plural = "tenant settings"
        constraints = [models.CheckConstraint(condition=Q(singleton=True), name="tenant_settings_singleton")]

    def __str__(self) -> str:
        return "Tenant settings"

    @classmethod
    def load(cls) -> TenantSettings:
        held = _HELD.get()
        if held is not None and held[0] == connection.schema_name:
            return held[1]
        settings, _ = cls.objects.get_or_create(singleton=True)
        return settings

    @classmethod
    @contextmanager
    def held(cls) -> Iterator[TenantSettings]:
        """Within the block, load() answers the settings as they were when it began, without a query
        (a batch job issuing thousands of certificates asks twice per certificate). Read-only use."""
        token = _HELD.set((connection.schema_name, cls.load()))
        try:
            yield _HELD.get()[1]
        finally:
            _HELD.reset(token)
