"""Private-key downloads become audit events: every KeyDownload row, in the order it was made, is
appended to the tenant's audit chain as ``private_key.downloaded`` (its time kept), after whatever
events the chain holds already. The next migration drops the table.

Frozen here on purpose (a migration must not follow later code): the event's shape as
apps.certificates.services.downloads records it, and the audit writers' advisory lock. The hash is
certmate.audit.chain.link, which cannot change without breaking every chain.
"""

from django.db import migrations

from certmate.audit.chain import CHAINED_FIELDS, GENESIS, link

AUDIT_LOCK = 0x4155  # certmate.audit.services: appending to this tenant's audit chain
BATCH = 1000


def event_fields(download, tenant: str) -> dict:
    """One KeyDownload row as the audit event a download records today."""
    return {
        "created_at": download.created_at,
        "tenant": tenant,
        "actor_type": "user",
        "actor_id": download.user_id,
        "actor_name": download.user_email[:254],
        "channel": "api",
        "action": "private_key.downloaded",
        "object_type": "certificate",
        "object_id": "" if download.certificate_id is None else str(download.certificate_id),
        "object_name": download.identifier[:300],
        "changes": {
            "version": download.version_number,
            "format": download.format,
            "key_format": download.key_format,
            "token_created_by": download.token_created_by_email,
        },
        "ip_address": download.ip_address or "",
        "user_agent": "",
        "token_prefix": download.token_prefix[:20],
    }


def key_downloads_to_audit_events(apps, schema_editor):
    KeyDownload = apps.get_model("certificates", "KeyDownload")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    connection = schema_editor.connection
    downloads = KeyDownload.objects.order_by("created_at", "id")
    if not downloads.exists():
        return
    tenant = connection.schema_name
    with connection.cursor() as cursor:
        # Live writers wait: the copies link to the chain's last event, and the next event to them.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [AUDIT_LOCK, tenant])
    previous = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    batch = []
    for download in downloads.iterator(chunk_size=BATCH):
        fields = event_fields(download, tenant)
        digest = link(previous, {name: fields[name] for name in CHAINED_FIELDS})
        batch.append(AuditEvent(**fields, prev_hash=previous, hash=digest))
        previous = digest
        if len(batch) == BATCH:
            AuditEvent.objects.bulk_create(batch)  # ids follow the list's order: the chain's order
            batch = []
    AuditEvent.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0005_key_download_token_creator"),
        ("audit", "0001_initial"),
    ]

    # Audit events are append-only: going back leaves them (and the next migration back gives an
    # empty KeyDownload table).
    operations = [migrations.RunPython(key_downloads_to_audit_events, migrations.RunPython.noop)]
