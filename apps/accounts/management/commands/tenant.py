from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._table import table_lines
from apps.accounts.selectors import tenant_list
from apps.accounts.services.tenants import tenant_create, tenant_delete
from certmate.actors import Actor


class Command(BaseCommand):
    help = "Create, list and delete tenants."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a tenant: schema, domain and first admin")
        create.add_argument("slug", help="schema name: 1-63 lowercase letters, digits, underscores")
        create.add_argument("--domain", required=True, help="host that serves the tenant, e.g. acme.localhost")
        create.add_argument("--name", default="", help="display name (defaults to the slug)")
        create.add_argument("--admin-email")
        create.add_argument("--admin-password")
        sub.add_parser("list", help="list tenants")
        delete = sub.add_parser("delete", help="delete a tenant and drop its schema")
        delete.add_argument("slug")
        delete.add_argument("--yes", action="store_true", help="confirm: the schema and all its data are dropped")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise command_error(exc) from None

    def _create(self, *, slug, domain, name, admin_email, admin_password, **_):
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
