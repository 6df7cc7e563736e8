"""Re-encrypting every stored secret of every schema with the newest key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from apps.accounts.models import Tenant
from certmate import encryption
from certmate.fields import encrypted_fields


@dataclass
class RotationReport:
    checked: int = 0
    rotated: int = 0
    per_schema: dict[str, int] = field(default_factory=dict)


def _schemas() -> list[str]:
    connection.set_schema_to_public()
    names = [
        get_public_schema_name(),
        *Tenant.objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True),
    ]
    if schema_exists(settings.TENANT_BASE_SCHEMA):
        names.append(settings.TENANT_BASE_SCHEMA)
    return names


def secrets_rotate(*, batch_size: int = 500, progress: Callable[[str, int], None] | None = None) -> RotationReport:
    """Re-encrypt with the first key of CERTMATE_ENCRYPTION_KEYS every secret that is not already.

    Safe to repeat and to interrupt: each batch commits on its own, and secrets already on the newest
    key are left alone, so a second run rotates nothing.
    """
    report = RotationReport()
    models = [(model, encrypted_fields(model)) for model in apps.get_models()]
    models = [(model, fields) for model, fields in models if fields]
    for schema in _schemas():
        rotated_here = 0
        with schema_context(schema):
            tables = set(connection.introspection.table_names(include_views=False))
            for model, fields in models:
                if model._meta.db_table not in tables:
                    continue
                rotated_here += _rotate_model(model, fields, batch_size, report)
        report.per_schema[schema] = rotated_here
        report.rotated += rotated_here
        if progress:
            progress(schema, rotated_here)
    return report


def _rotate_model(model, fields, batch_size: int, report: RotationReport) -> int:
    # The stored ciphertext itself: a cast to plain text skips the field's decryption.
    raw = {f"_raw_{f.attname}": Cast(f.attname, output_field=TextField()) for f in fields}
    rows = model._base_manager.annotate(**raw).order_by("pk")
    rotated = 0
    last_pk = None
    while True:
        with transaction.atomic():
            # Locked while rotated, so a secret edited meanwhile is never overwritten with its old value.
            page = rows.filter(pk__gt=last_pk) if last_pk is not None else rows
            batch = list(page.select_for_update().values_list("pk", *raw)[:batch_size])
            if not batch:
                return rotated
            for pk, *stored_values in batch:
                report.checked += 1
                stale = {
                    f.attname: Value(encryption.rotate(stored), output_field=TextField())
                    for f, stored in zip(fields, stored_values, strict=True)
                    if stored is not None and not encryption.is_current(stored)
                }
                if stale:
                    # The new ciphertext goes in as it is: the same secret, under the newest key.
                    model._base_manager.filter(pk=pk).update(**stale)
                    rotated += 1
        last_pk = batch[-1][0]
