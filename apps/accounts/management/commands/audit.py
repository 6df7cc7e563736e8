from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from apps.accounts.api.audit import AuditFilterSerializer
from apps.accounts.management.commands._tenant import in_tenant, tenant_named
from apps.accounts.selectors import tenant_list
from certmate.audit.selectors import audit_event_lines, audit_event_list
from certmate.audit.services import audit_verify

FILTERS = {
    "--actor": "a user's id, or the actor's name (a user's e-mail, or what the system did)",
    "--action": "an action (certificate.renewed), or a prefix ending in a dot (certificate.)",
    "--object-type": "the object's type (certificate, ca_account, ...)",
    "--object-id": "the object's id (with --object-type)",
    "--channel": "api, admin, portal, command or system",
    "--since": "events at or after this time (ISO 8601; without an offset, UTC)",
    "--until": "events before this time (ISO 8601)",
}


class Command(BaseCommand):
    help = "Verify tenants' audit chains, or export a tenant's audit log as JSON lines."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="check audit chains; exits 1 when any is broken")
        verify.add_argument(
            "--tenant", action="append", dest="tenants", metavar="SLUG", help="a tenant (repeatable; default: all)"
        )
        export = sub.add_parser("export", help="the tenant's events as JSON lines on stdout, oldest first")
        export.add_argument("--tenant", required=True, metavar="SLUG", help="the tenant's slug")
        for option, text in FILTERS.items():
            export.add_argument(option, help=text)

    def handle(self, *args, subcommand, **options):
        if subcommand == "verify":
            # Every slug is looked up before any chain is read: a typo stops the command at once.
            slugs = options["tenants"]
            self._verify([tenant_named(slug) for slug in slugs] if slugs else list(tenant_list()))
        else:
            self._export(options)

    def _verify(self, tenants: list) -> None:
        broken = []
        for tenant in tenants:
            slug = tenant.schema_name
            with tenant_context(tenant):
                report = audit_verify()
            if report.ok:
                self.stdout.write(f"{slug}: {report.checked} events checked, OK")
            else:
                broken.append(slug)
                self.stdout.write(
                    f"{slug}: BROKEN at event {report.broken_id}: {report.problem} "
                    f"({report.checked} events before it intact)"
                )
        if broken:
            raise CommandError(f"audit chain broken in {', '.join(broken)}", returncode=1)

    def _export(self, options: dict) -> None:
        given = {name: options[name] for name in AuditFilterSerializer().fields if options.get(name) is not None}
        form = AuditFilterSerializer(data=given)
        if not form.is_valid():
            problems = (f"--{field.replace('_', '-')}: {' '.join(errors)}" for field, errors in form.errors.items())
            raise CommandError("; ".join(problems))
        with in_tenant(options["tenant"]):
            for line in audit_event_lines(audit_event_list(**form.validated_data)):
                self.stdout.write(line, ending="")
