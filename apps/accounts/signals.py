from django.apps import apps
from django.db import connection
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name


@receiver(post_migrate, dispatch_uid="accounts_roles_sync")
def sync_roles_after_migrate(sender, **kwargs):
    # post_migrate fires once per app; only the last one sees every app's permissions created.
    if sender.label != list(apps.get_app_configs())[-1].label:
        return
    if connection.schema_name == get_public_schema_name():
        return  # platform operators are superusers; roles are a tenant matter
    from apps.accounts.roles import roles_sync

    roles_sync()
