from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._tenant import in_tenant
from apps.importing.report import Outcome
from apps.importing.services.certmate import certmate_import
from apps.importing.source import SourceError
from certmate.actors import Actor


class Command(BaseCommand):
    help = (
        "Import a CertMate install (its folder or a backup zip) into a tenant: certificates with every "
        "version, DNS and CA accounts, the private CA and client certificates, users and API tokens. "
        "Prints a report of every file and setting; running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="CertMate's folder (or its data/ folder) or a backup zip")
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--dry-run", action="store_true", help="report what would happen and write nothing")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--secret-key-file",
            type=Path,
            help="the SECRET_KEY CertMate ran with (when not in its data/.secret_key): keeps its API tokens working",
        )
        parser.add_argument(
            "--users-domain", default="", help="give CertMate users without an e-mail address <name>@DOMAIN"
        )
        parser.add_argument("--all", action="store_true", help="list imported and unchanged entries too")

    def handle(self, *args, path, tenant, dry_run, json, secret_key_file, users_domain, all, **options):
        secret_key = None
        if secret_key_file is not None:
            try:
                secret_key = secret_key_file.read_text().strip()
            except OSError as exc:
                raise CommandError(f"--secret-key-file {secret_key_file}: {exc.strerror}") from None
        with in_tenant(tenant):
            try:
                report = certmate_import(
                    path=path,
                    actor=Actor.command(name="import_certmate"),
                    dry_run=dry_run,
                    secret_key=secret_key,
                    users_domain=users_domain,
                )
            except SourceError as exc:
                raise CommandError(str(exc)) from None
            except ValidationError as exc:
                raise command_error(exc) from None
        self.stdout.write(report.as_json() if json else report.as_table(verbose=all or dry_run))
        if report.by_outcome(Outcome.ATTENTION):
            self.stderr.write(f"{len(report.by_outcome(Outcome.ATTENTION))} item(s) need attention (listed above)")
