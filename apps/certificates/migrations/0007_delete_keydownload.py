from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0006_key_downloads_to_audit_events"),
    ]

    operations = [
        migrations.DeleteModel(name="KeyDownload"),
    ]
