"""File paths that carry the tenant: every tenant's files live under a folder named by its slug."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import get_public_schema_name

from apps.accounts.validators import SLUG_RE


def tenant_path(root: Path | str, *parts: str) -> Path:
    """``root/<current tenant's slug>/<parts…>``, refusing to run outside a tenant or to leave the folder."""
    slug = connection.schema_name
    if slug == get_public_schema_name() or not SLUG_RE.fullmatch(slug):
        raise ValidationError(f"no tenant is active (schema {slug!r}): tenant files need a tenant", code="no_tenant")
    base = (Path(root) / slug).resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise ValidationError(f"path {'/'.join(parts)!r} leaves tenant {slug}'s folder", code="path_escape")
    return path
