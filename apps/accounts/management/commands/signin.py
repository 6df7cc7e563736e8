from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._table import table_lines
from apps.accounts.management.commands._tenant import in_tenant
from apps.accounts.selectors import signin_attempts, tenant_list
from apps.accounts.services.signin import signin_records_prune, signin_unlock
from certmate.actors import Actor


def _where(parser):
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tenant", help="the tenant's slug (its admin's sign-in)")
    where.add_argument("--platform", action="store_true", help="the platform admin's sign-in (public schema)")


class Command(BaseCommand):
    help = "List failed sign-ins still counted, and lift sign-in lockouts, of a tenant or of the platform."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="failed sign-ins within the cool-off, newest first")
        _where(listing)
        unlock = sub.add_parser("unlock", help="forget the failures of a username, an address, or both")
        _where(unlock)
        unlock.add_argument("--username", help="the e-mail address typed at sign-in")
        unlock.add_argument("--address", help="the client's IP address")
        prune = sub.add_parser(
            "prune", help="delete sign-in records older than --days, of the platform and every tenant"
        )
        prune.add_argument("--days", type=int, required=True, help="days of records to keep (at least 1)")

    def handle(self, *args, action, tenant=None, platform=False, **options):
        try:
            if action == "prune":  # everywhere
                self._prune(**options)
                return
            with in_tenant(tenant) if tenant else schema_context(get_public_schema_name()):
                getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise command_error(exc) from None

    def _list(self, **_):
        header = ("LAST FAILURE", "USERNAME", "ADDRESS", "FAILURES", "PATH")
        rows = [
            (a.attempt_time.strftime("%Y-%m-%d %H:%M:%S"), a.username or "-", a.ip_address or "-",
             str(a.failures_since_start), a.path_info)
            for a in signin_attempts()
        ]  # fmt: skip
        for line in table_lines(header, rows):
            self.stdout.write(line)

    def _prune(self, *, days, **_):
        actor = Actor.command(name="manage.py signin prune")
        with schema_context(get_public_schema_name()):
            counts = {"platform": signin_records_prune(days=days, actor=actor)}
        for tenant in tenant_list():
            with tenant_context(tenant):
                counts[tenant.schema_name] = signin_records_prune(days=days, actor=actor)
        for where, count in counts.items():
            self.stdout.write(f"{where}: {count} sign-in record(s) older than {days} days deleted")

    def _unlock(self, *, username, address, **_):
        count = signin_unlock(username=username, address=address, actor=Actor.command(name="manage.py signin unlock"))
        self.stdout.write(f"unlocked: {count} failure record(s) forgotten")
