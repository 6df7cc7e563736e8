"""CA accounts, DNS accounts and tenant settings now belong to apps.certificates (its migration 0009 takes
them over, tables and all): accounts forgets them. Nothing changes in the database."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_contact_email_and_eab_checks'),
        ('certificates', '0009_acme_accounts_and_settings_from_accounts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='TenantSettings'),
                migrations.DeleteModel(name='CaAccount'),
                migrations.DeleteModel(name='DnsAccount'),
            ],
            database_operations=[],
        ),
    ]
