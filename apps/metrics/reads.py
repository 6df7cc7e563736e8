"""What /metrics reads from the tenants' tables: one UNION ALL over the schemas per metric family, so a
scrape of 100 tenants costs a handful of queries, not hundreds. Reads only; nothing here writes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import connection, transaction
from psycopg.adapt import Loader

from apps.accounts.selectors import tenants_active
from apps.certificates.models import (
    CaAccount,
    Certificate,
    CertificateAuthority,
    CertificateVersion,
    Job,
    RenewalSweep,
)
from apps.notifications.models import Delivery, NotificationChannel
from apps.storage.models import Publication

# Job durations' histogram buckets, in seconds: a private CA signs in well under a second, certbot with
# DNS propagation takes from seconds to many minutes.
DURATION_BUCKETS = (0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
_MODELS = {
    "certificate": Certificate,
    "version": CertificateVersion,
    "authority": CertificateAuthority,
    "ca_account": CaAccount,
    "job": Job,
    "sweep": RenewalSweep,
    "publication": Publication,
    "delivery": Delivery,
    "channel": NotificationChannel,
}


def _escaped(column: str) -> str:
    """SQL for ``column`` escaped as a label value (exposition.escape's rules: backslash, double quote, newline)."""
    return rf"""replace(replace(replace({column}, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')"""


# The certificate families' sample lines, written by PostgreSQL: per schema, each family's lines joined by a
# newline (NULL for none). The label text is built once per certificate (OFFSET 0 keeps the planner from
# inlining it into each line). Values: date_part's float8 epoch (microseconds / 1e6, the double EXTRACT's
# numeric rounds to, a third cheaper), written shortest-exact as Python's repr writes it (read_all sets
# extra_float_digits; "1767225600" where repr says "1767225600.0", the same value to a parser).
LABELS_SQL = (
    "concat('tenant=\"', %s::text, '\",name=\"', " + _escaped("c.identifier") + ", '\",kind=\"', c.kind, "
    "'\",issuer=\"', " + _escaped("COALESCE(a.name, ca.name, '')") + ", '\"')"
)  # the schema: a slug ([a-z0-9_]); kind: a choice
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def certificates_sql(expiry: str, renewal: str, ready: str) -> str:
    """For union_rows: per schema, the expiry, renewal and ready families' lines (named so)."""
    if not all(METRIC_NAME.fullmatch(name) for name in (expiry, renewal, ready)):
        raise ValueError(f"not metric names: {expiry!r}, {renewal!r}, {ready!r}")
    return (  # the names checked, the tables quoted by union_rows, the schema a parameter
        f"SELECT string_agg(concat('{expiry}{{{{', l, '}}}} ', e), E'\\n') FILTER (WHERE e IS NOT NULL),"  # noqa: S608
        f" string_agg(concat('{renewal}{{{{', l, '}}}} ', r), E'\\n') FILTER (WHERE r IS NOT NULL),"
        f" string_agg(concat('{ready}{{{{', l, ',condition=\"True\"}}}} ', ok::int, E'\\n',"
        f" '{ready}{{{{', l, ',condition=\"False\"}}}} ', (NOT ok)::int), E'\\n')"
        " FROM (SELECT " + LABELS_SQL + " AS l, date_part('epoch', v.not_after) AS e,"
        " date_part('epoch', c.renew_at) AS r,"
        " (v.id IS NOT NULL AND v.revoked_at IS NULL AND v.not_after > now()) AS ok"
        " FROM {certificate} c LEFT JOIN {version} v ON v.id = c.current_version_id"
        " LEFT JOIN {authority} a ON a.id = c.authority_id LEFT JOIN {ca_account} ca ON ca.id = c.ca_account_id"
        " OFFSET 0) s"
    )


# Jobs by operation, status and how many duration bounds a finished job's duration is within (NULL for
# the others): one scan, one group per bucket. width_bucket counts the (ascending) thresholds at or
# below its operand; with both negated, that is the bounds at or above the duration.
JOBS_SQL = (
    "SELECT %s, operation, status, width_bucket(-d, %s::float8[]) AS within, count(*), COALESCE(sum(d), 0)"
    " FROM (SELECT operation, status, CASE WHEN status IN ('succeeded', 'failed')"
    " THEN EXTRACT(EPOCH FROM finished_at - started_at)::float8 END AS d FROM {job}) j"
    " GROUP BY operation, status, within"
)
NEGATED_BOUNDS = sorted(-bound for bound in DURATION_BUCKETS)
PUBLICATIONS_SQL = "SELECT %s, state, count(*) FROM {publication} GROUP BY state"
DELIVERIES_SQL = (
    "SELECT %s, ch.kind, d.status, count(*) FROM {delivery} d JOIN {channel} ch ON ch.id = d.channel_id"
    " GROUP BY ch.kind, d.status"
)
# Parenthesised: each schema's newest finished sweep (LIMIT inside a UNION ALL needs them).
SWEEP_SQL = (
    "(SELECT %s, EXTRACT(EPOCH FROM finished_at)::float8, EXTRACT(EPOCH FROM finished_at - started_at)::float8"
    " FROM {sweep} WHERE finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1)"
)


def scraped_schemas(*, schema: str | None = None) -> list[str]:
    """The active tenants' schemas that exist (or just ``schema``, when it is one of them), in order."""
    tenants = tenants_active(slugs=[schema] if schema else None)
    names = list(tenants.values_list("schema_name", flat=True))
    if not names:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [names])
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in names if name in present]


def _tables(schema: str) -> dict[str, str]:
    quote = connection.ops.quote_name
    return {key: f"{quote(schema)}.{quote(model._meta.db_table)}" for key, model in _MODELS.items()}


class _Utf8Bytes(Loader):
    """Text columns as the UTF-8 bytes the server sent (the page's encoding): no decoding of 50 MB."""

    def load(self, data) -> bytes:
        return bytes(data)


def union_rows(schemas: Sequence[str], sql: str, params: Sequence = (), *, text_as_bytes: bool = False) -> list[tuple]:
    """``sql`` (first column ``%s``: the schema, then ``params``) run over every schema at once. Only
    quoted identifiers are put into the text: schema names from the tenant table that pg_namespace has,
    the models' own table names."""
    if not schemas:
        return []
    text = " UNION ALL ".join(sql.format(**_tables(schema)) for schema in schemas)
    with connection.cursor() as cursor:
        if text_as_bytes:  # the client encoding is UTF-8 (Django's PostgreSQL backend sets it)
            cursor.cursor.adapters.register_loader("text", _Utf8Bytes)
        cursor.execute(text, [value for schema in schemas for value in (schema, *params)])
        return cursor.fetchall()


def read_all(schemas: Sequence[str], certificate_names: Sequence[str]) -> dict[str, list[tuple]]:
    """Every family's rows for these schemas (the certificates': their lines, see certificates_sql)."""
    with transaction.atomic(), connection.cursor() as cursor:
        # 1 (PostgreSQL's default): floats written shortest and exact; 0 or less would round them to 15 digits.
        cursor.execute("SET LOCAL extra_float_digits = 1")
        return _read_all(schemas, certificate_names)


def _read_all(schemas: Sequence[str], certificate_names: Sequence[str]) -> dict[str, list[tuple]]:
    return {
        "certificates": union_rows(schemas, certificates_sql(*certificate_names), text_as_bytes=True),
        "jobs": union_rows(schemas, JOBS_SQL, [NEGATED_BOUNDS]),
        "publications": union_rows(schemas, PUBLICATIONS_SQL),
        "deliveries": union_rows(schemas, DELIVERIES_SQL),
        "sweeps": union_rows(schemas, SWEEP_SQL),
    }
