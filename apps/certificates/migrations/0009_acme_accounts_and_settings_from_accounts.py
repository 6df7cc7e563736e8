"""CA accounts, DNS accounts and tenant settings move from apps.accounts to apps.certificates, where
ACME lives, so that accounts never imports certificates. Their tables stay as they are (db_table keeps
the accounts_* names): only Django's idea of which app holds them changes. Their content types follow
them, so their permissions and admin history stay theirs."""

import apps.accounts.validators
import certmate.fields
import django.db.models.deletion
from django.db import migrations, models

MOVED = ("caaccount", "dnsaccount", "tenantsettings")


def _content_types_move(apps, source: str, destination: str) -> None:
    content_types = apps.get_model("contenttypes", "ContentType").objects
    taken = set(content_types.filter(app_label=destination, model__in=MOVED).values_list("model", flat=True))
    content_types.filter(app_label=source, model__in=set(MOVED) - taken).update(app_label=destination)


def content_types_forward(apps, schema_editor):
    _content_types_move(apps, "accounts", "certificates")


def content_types_backward(apps, schema_editor):
    _content_types_move(apps, "certificates", "accounts")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_contact_email_and_eab_checks'),
        ('certificates', '0008_certificate_events'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CaAccount',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True)),
                        ('directory_url', models.URLField(max_length=500, verbose_name='ACME directory URL')),
                        ('email', models.EmailField(max_length=254, validators=[apps.accounts.validators.validate_contact_email], verbose_name='contact e-mail')),
                        ('eab_kid', models.CharField(blank=True, max_length=500, validators=[apps.accounts.validators.validate_eab_kid], verbose_name='EAB key id')),
                        ('eab_hmac_key', certmate.fields.EncryptedTextField(blank=True, default='', verbose_name='EAB HMAC key')),
                        ('trust_bundle', models.TextField(blank=True, help_text="PEM CA certificates to trust for a private ACME server's HTTPS endpoint")),
                        ('is_default', models.BooleanField(default=False)),
                        ('acme_account', certmate.fields.EncryptedJSONField(blank=True, editable=False, null=True)),
                        ('acme_account_uri', models.URLField(blank=True, editable=False, max_length=500)),
                        ('registered_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'verbose_name': 'CA account',
                        'db_table': 'accounts_caaccount',
                        'ordering': ['name'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('is_default', True)), fields=('is_default',), name='one_default_ca_account')],
                    },
                ),
                migrations.AlterField(
                    model_name='certificate',
                    name='ca_account',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='certificates', to='certificates.caaccount'),
                ),
                migrations.CreateModel(
                    name='DnsAccount',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('provider', models.CharField(max_length=50)),
                        ('credentials', certmate.fields.EncryptedJSONField(default=dict)),
                        ('propagation_seconds', models.PositiveIntegerField(blank=True, null=True)),
                        ('is_default', models.BooleanField(default=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'verbose_name': 'DNS account',
                        'db_table': 'accounts_dnsaccount',
                        'ordering': ['provider', 'name'],
                        'constraints': [models.UniqueConstraint(fields=('provider', 'name'), name='dns_account_name_per_provider'), models.UniqueConstraint(condition=models.Q(('is_default', True)), fields=('provider',), name='one_default_dns_account_per_provider')],
                    },
                ),
                migrations.AlterField(
                    model_name='certificate',
                    name='dns_account',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='certificates', to='certificates.dnsaccount'),
                ),
                migrations.CreateModel(
                    name='TenantSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('singleton', models.BooleanField(default=True, editable=False, unique=True)),
                        ('contact_email', models.EmailField(blank=True, max_length=254, validators=[apps.accounts.validators.validate_contact_email])),
                        ('default_key_type', models.CharField(choices=[('rsa2048', 'RSA 2048'), ('rsa3072', 'RSA 3072'), ('rsa4096', 'RSA 4096'), ('ec256', 'ECDSA P-256'), ('ec384', 'ECDSA P-384')], default='ec256', max_length=10)),
                        ('auto_renew_default', models.BooleanField(default=True)),
                        ('renewal_threshold_days', models.PositiveIntegerField(default=30)),
                        ('default_ca_account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='certificates.caaccount')),
                        ('default_dns_account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='certificates.dnsaccount')),
                    ],
                    options={
                        'verbose_name': 'tenant settings',
                        'verbose_name_plural': 'tenant settings',
                        'db_table': 'accounts_tenantsettings',
                        'constraints': [models.CheckConstraint(condition=models.Q(('singleton', True)), name='tenant_settings_singleton')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_forward, content_types_backward),
    ]
