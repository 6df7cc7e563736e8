import django.utils.timezone
from django.db import migrations, models

# One function for every tenant (in the public schema), one trigger per tenant's table: UPDATE and
# DELETE of an audit event are refused, whoever asks. A tenant's schema is dropped whole.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION public.certmate_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused on %.%', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION public.certmate_audit_append_only();
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("tenant", models.CharField(help_text="the tenant's slug (its schema)", max_length=63)),
                ("actor_type", models.CharField(help_text="user or system", max_length=10)),
                (
                    "actor_id",
                    models.BigIntegerField(blank=True, help_text="the user's id, when a user acted", null=True),
                ),
                (
                    "actor_name",
                    models.CharField(
                        blank=True, help_text="the user's e-mail, or what the system did", max_length=254
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("api", "API"),
                            ("admin", "Admin"),
                            ("portal", "Portal"),
                            ("command", "Command"),
                            ("system", "System"),
                        ],
                        max_length=10,
                    ),
                ),
                ("action", models.CharField(db_index=True, max_length=80)),
                ("object_type", models.CharField(blank=True, max_length=60)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                (
                    "object_name",
                    models.CharField(
                        blank=True, help_text="a readable name that outlives the object", max_length=300
                    ),
                ),
                (
                    "changes",
                    models.JSONField(
                        blank=True, default=dict, help_text="field: [before, after]; secrets as 'changed'"
                    ),
                ),
                ("ip_address", models.CharField(blank=True, max_length=45)),
                ("user_agent", models.CharField(blank=True, max_length=300)),
                ("token_prefix", models.CharField(blank=True, max_length=20)),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64, unique=True)),
            ],
            options={
                "verbose_name": "audit event",
                "ordering": ["-id"],
                "indexes": [
                    models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
                    models.Index(fields=["actor_type", "actor_id"], name="audit_actor_idx"),
                ],
            },
        ),
        migrations.RunSQL(APPEND_ONLY, "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;"),
    ]
