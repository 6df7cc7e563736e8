"""Many revoked versions fast, for CRL tests and measurements: copies of one real version (same
certificate and CA, numbers after its own) with random serials, made by one INSERT ... SELECT in the
database. 100,000 rows take about a second where bulk_create takes much longer (it encrypts an empty
key per row and sends every value)."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import connection
from django.utils import timezone

from apps.certificates.models import CertificateVersion

# Cycled through the copies; every third keyCompromise one carries an invalidity date.
REASONS = ("keycompromise", "superseded", "cessationofoperation", "unspecified", "affiliationchanged")
# Columns the copies get their own values for; every other column is the template's.
_OWN = {
    "number": "t.number + g",
    # 128 random-looking bits, lowercase hex without leading zeros (certmate's spelling of a serial).
    "serial": "ltrim(md5(%(salt)s || g::text), '0')",
    "fingerprint_sha256": "encode(sha256(convert_to(%(salt)s || g::text, 'UTF8')), 'hex')",
    "revoked_at": "%(revoked_at)s - make_interval(secs => g)",
    "revocation_reason": "(%(reasons)s::text[])[1 + g %% %(reason_count)s]",
    "invalidity_date": "CASE WHEN g %% (3 * %(reason_count)s) = 0 THEN %(revoked_at)s - interval '1 day' END",
    # The PEM of the template is not repeated 100,000 times: CRLs and OCSP read serials only.
    "certificate_pem": "''",
    "chain_pem": "''",
    "fullchain_pem": "''",
}


def reason_of(index: int) -> str:
    """The reason of the ``index``-th (from 0) copy revoked_versions_create made."""
    return REASONS[(index + 1) % len(REASONS)]


def revoked_versions_create(
    version: CertificateVersion, count: int, *, revoked_at: datetime | None = None
) -> list[str]:
    """``count`` revoked copies of ``version`` in the current tenant's schema; their serials (hex), the
    n-th (from 0) revoked for reason_of(n) at ``revoked_at`` less n + 1 seconds."""
    fields = [field for field in CertificateVersion._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = ", ".join(_OWN.get(field.column, f"t.{connection.ops.quote_name(field.column)}") for field in fields)
    table = connection.ops.quote_name(CertificateVersion._meta.db_table)
    # Identifiers from the model, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {values} FROM {table} AS t, "  # noqa: S608
        "generate_series(1, %(count)s) AS g WHERE t.id = %(template)s RETURNING number, serial"
    )
    params = {
        "salt": secrets.token_hex(8),
        "revoked_at": revoked_at or timezone.now(),
        "reasons": list(REASONS),
        "reason_count": len(REASONS),
        "count": count,
        "template": version.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [serial for _, serial in sorted(cursor.fetchall())]
