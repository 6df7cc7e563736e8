"""What the platform admin's tenant list shows of each tenant's certificates: how many, and whether any
needs a look (failed, expired, expiring within a week). One query for the whole page: a UNION ALL over
the tenants' schemas (a schema that is gone is left out, never an error)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from apps.accounts import admin_tenants
from apps.accounts.admin_tenants import TenantSummary
from apps.certificates.models import Certificate, CertificateStatus, CertificateVersion

URGENT_DAYS = 7
COUNTS_SQL = (
    "SELECT %s, count(c.id), count(*) FILTER (WHERE c.status = %s), "
    "count(v.id) FILTER (WHERE v.revoked_at IS NULL AND v.not_after <= now()), "
    "count(v.id) FILTER (WHERE v.revoked_at IS NULL AND v.not_after > now() "
    "AND v.not_after <= now() + make_interval(days => %s))"
)


def _per_schema_sql(schema: str) -> str:
    quote = connection.ops.quote_name
    certificates = f"{quote(schema)}.{quote(Certificate._meta.db_table)}"
    versions = f"{quote(schema)}.{quote(CertificateVersion._meta.db_table)}"
    # Only quoted identifiers are put in: schema names read from pg_namespace, the models' own table names.
    return COUNTS_SQL + f" FROM {certificates} c LEFT JOIN {versions} v ON v.id = c.current_version_id"


def tenant_certificate_summaries(schemas: Sequence[str]) -> dict[str, TenantSummary]:
    """{schema: TenantSummary} for the tenants named; a schema that does not exist is left out."""
    if not schemas:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [list(schemas)])
        present = sorted(row[0] for row in cursor.fetchall())
        if not present:
            return {}
        sql = " UNION ALL ".join(_per_schema_sql(schema) for schema in present)
        params = [value for schema in present for value in (schema, CertificateStatus.FAILED, URGENT_DAYS)]
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {schema: _summary(total, failed, expired, expiring) for schema, total, failed, expired, expiring in rows}


def _summary(total: int, failed: int, expired: int, expiring: int) -> TenantSummary:
    problems = [
        f"{failed} failed" if failed else "",
        f"{expired} expired" if expired else "",
        f"{expiring} expire{'s' if expiring == 1 else ''} within {URGENT_DAYS} days" if expiring else "",
    ]
    problems = [text for text in problems if text]
    return TenantSummary(certificates=total, health=", ".join(problems) or "ok", healthy=not problems)


admin_tenants.tenant_summaries = tenant_certificate_summaries
