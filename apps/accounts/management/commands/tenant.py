import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._table import table_lines
from apps.accounts.selectors import tenant_list
from apps.accounts.services.tenants import tenant_create, tenant_delete
from apps.accounts.tenant_actions import tenant_action_run, tenant_actions
from certmate.actors import Actor


class Command(BaseCommand):
    help = "Create, list and delete tenants (and export and import them, see `tenant export --help`)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a tenant: schema, domain and first admin")
        create.add_argument("slug", help="schema name: 1-63 lowercase letters, digits, underscores")
        create.add_argument("--domain", required=True, help="host that serves the tenant, e.g. acme.localhost")
        create.add_argument("--name", default="", help="display name (defaults to the slug)")
        create.add_argument("--admin-email", help="the tenant's first admin")
        create.add_argument(
            "--admin-password", help="the first admin's password; left out, it is asked for (in a terminal only)"
        )
        sub.add_parser("list", help="list tenants")
        delete = sub.add_parser("delete", help="delete a tenant and drop its schema")
        delete.add_argument("slug")
        delete.add_argument("--yes", action="store_true", help="confirm: the schema and all its data are dropped")
        for action in tenant_actions().values():
            action.add_arguments(sub.add_parser(action.name, help=action.help))

    def handle(self, *args, action, **options):
        try:
            if not tenant_action_run(action, self, options):
                getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise command_error(exc) from None

    def _create(self, *, slug, domain, name, admin_email, admin_password, **_):
        if admin_email and not admin_password:
            admin_password = self._ask_password(admin_email)
        tenant = tenant_create(
            slug=slug,
            domain=domain,
            name=name,
            admin_email=admin_email,
            admin_password=admin_password,
            actor=Actor.command(name="manage.py tenant create"),
        )
        self.stdout.write(
            f"created tenant {tenant.slug} at {domain}" + (f" with admin {admin_email}" if admin_email else "")
        )

    def _ask_password(self, email: str) -> str:
        """Typed twice at the terminal, never echoed. Without a terminal (a script, a pipe) nothing is
        made up and printed into a log: the command says what to give instead."""
        if not sys.stdin.isatty():
            raise CommandError(
                f"no password for {email}: give --admin-password, or run the command in a terminal to be asked for it"
            )
        password = getpass.getpass(f"Password for {email}: ")
        if password != getpass.getpass("The same password again: "):
            raise CommandError("the two passwords differ: nothing was created")
        if not password:
            raise CommandError("an empty password: nothing was created")
        return password

    def _list(self, **_):
        rows = [
            (t.slug, t.name, "active" if t.is_active else "inactive", ",".join(d.domain for d in t.domains.all()))
            for t in tenant_list()
        ]
        for line in table_lines(("SLUG", "NAME", "STATE", "DOMAINS"), rows):
            self.stdout.write(line)

    def _delete(self, *, slug, yes, **_):
        if not yes:
            raise CommandError(f"deleting tenant {slug!r} drops its schema and every row in it: add --yes to confirm")
        tenant_delete(slug=slug)
        self.stdout.write(f"deleted tenant {slug} and dropped its schema")
