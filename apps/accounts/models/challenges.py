"""HTTP-01 challenges being answered: published by the worker running the order, answered by any web
process at /.well-known/acme-challenge/<token> whatever host the CA asks on. Public schema only: the
CA's request names a certificate's domain, not a tenant's host, so the token finds the tenant."""

from __future__ import annotations

from django.db import models


class HttpChallenge(models.Model):
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=128, unique=True)
    key_authorization = models.CharField(max_length=300)
    domain = models.CharField(max_length=253, help_text="the host the CA must ask on")
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "HTTP-01 challenge"

    def __str__(self) -> str:
        return f"{self.domain}: {self.token[:12]}…"
