"""What a tenant imported from CertMate: one row per source object, so that importing again is a no-op
and an interrupted import resumes where it stopped. Tenant schema."""

from __future__ import annotations

from django.db import models


class ImportedObject(models.Model):
    # What it was in CertMate: "certificate:example.com", "dns_account:cloudflare/default", "user:alice", …
    source_key = models.CharField(max_length=400, unique=True)
    kind = models.CharField(max_length=40)
    # A hash of what was read for it: the same hash on the next run means nothing to do.
    content_hash = models.CharField(max_length=64)
    # What it became here ("certificates.certificate:12"): for the report and for later runs.
    target = models.CharField(max_length=100, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source_key"]
        verbose_name = "object imported from CertMate"

    def __str__(self) -> str:
        return self.source_key
