from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._tenant import in_tenant
from apps.certificates.pki.commands import batch, ca, crl, issue, profile, revoke
from certmate.actors import Actor

COMMAND = Actor.command(name="manage.py pki")


class Command(BaseCommand):
    help = (
        "A tenant's private CAs: CAs (ca), their profiles (profile), issuing (issue, batch), revoking (revoke, "
        "revoke-ca, revoke-bulk), CRLs (crl)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="area", required=True)
        for area in (ca, profile, issue, batch, revoke, crl):
            area.register(sub)

    def handle(self, *args, area, tenant, handler, **options):
        with in_tenant(tenant):
            try:
                handler(self, actor=COMMAND, **options)
            except ValidationError as exc:
                raise command_error(exc) from None
