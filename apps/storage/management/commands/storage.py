import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._tenant import in_tenant
from apps.accounts.selectors import tenant_list
from apps.storage.backends import BACKENDS
from apps.storage.backends.base import StorageError
from apps.storage.selectors import publication_counts
from apps.storage.services import (
    publications_resync,
    storage_config_active,
    storage_config_test,
    storage_migrate,
    storage_target_name,
)
from certmate.actors import Actor


def _setting(text: str) -> tuple[str, object]:
    """KEY=VALUE, the value read as JSON when it is JSON (numbers, booleans), else as text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise CommandError(f"--setting {text!r}: write KEY=VALUE")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


class Command(BaseCommand):
    help = "Publish a tenant's certificates to its storage target, test it, or move to another target."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        resync = sub.add_parser("resync", help="publish every current version the target lacks")
        resync.add_argument("--tenant", help="one tenant (default: every active tenant)")
        status = sub.add_parser("status", help="the tenant's target and its publications by state")
        status.add_argument("--tenant", required=True)
        test = sub.add_parser("test", help="test the connection to the tenant's target")
        test.add_argument("--tenant", required=True)
        migrate = sub.add_parser("migrate", help="move published material to another target, then switch")
        migrate.add_argument("--tenant", required=True)
        migrate.add_argument("--to", required=True, choices=list(BACKENDS), help="the new backend")
        migrate.add_argument("--setting", action="append", default=[], type=_setting, help="KEY=VALUE, repeatable")
        migrate.add_argument(
            "--credentials-file", help="JSON object of the backend's credentials ('-' for standard input)"
        )
        migrate.add_argument("--remove-old", action="store_true", help="delete what was moved from the old target")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise command_error(exc) from None
        except StorageError as exc:
            raise CommandError(exc.reason) from None

    def _resync(self, *, tenant, verbosity, **_):
        slugs = [tenant] if tenant else [t.schema_name for t in tenant_list().filter(is_active=True)]
        failed = 0
        for slug in slugs:
            with in_tenant(slug):
                try:
                    report = publications_resync(
                        actor=Actor.command(), progress=self.stdout.write if verbosity > 1 else None
                    )
                except StorageError as exc:  # this tenant's target is unusable; the others still resync
                    self.stderr.write(f"{slug}: {exc.reason}")
                    failed += 1
                    continue
            self.stdout.write(
                f"{slug}: {report.checked} checked, {report.published} published, {len(report.failed)} failed"
                f" ({report.target})"
            )
            for reason in report.failed:
                self.stderr.write(f"  {reason}")
            failed += len(report.failed)
        if failed:
            raise CommandError(f"{failed} version(s) or target(s) could not be published to: see the reasons above")

    def _status(self, *, tenant, **_):
        with in_tenant(tenant):
            config = storage_config_active()
            self.stdout.write(f"target: {storage_target_name(config)}")
            for state, count in publication_counts(target=config).items():
                self.stdout.write(f"{state}: {count}")

    def _test(self, *, tenant, **_):
        with in_tenant(tenant):
            config = storage_config_active()
            storage_config_test(config=config, actor=Actor.command())
            self.stdout.write(f"{storage_target_name(config)}: connection works")

    def _migrate(self, *, tenant, to, setting, credentials_file, remove_old, verbosity, **_):
        credentials = self._credentials(credentials_file)
        with in_tenant(tenant):
            report = storage_migrate(
                actor=Actor.command(),
                backend=to,
                settings=dict(setting),
                credentials=credentials,
                remove_old=remove_old,
                progress=self.stdout.write if verbosity > 1 else None,
            )
        for reason in report.failures:
            self.stderr.write(f"  {reason}")
        if not report.switched:
            raise CommandError(
                f"{len(report.failures)} of {report.copied + len(report.failures)} item(s) did not arrive at "
                f"{report.target}: {tenant} stays on {report.source}"
            )
        self.stdout.write(
            f"{tenant}: {report.copied} copied, {report.verified} verified, switched from {report.source} to "
            f"{report.target}" + (f"; {report.removed_from_source} removed from the old target" if remove_old else "")
        )

    @staticmethod
    def _credentials(path: str | None) -> dict:
        if not path:
            return {}
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text()
            credentials = json.loads(text)
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"--credentials-file {path}: {exc}") from None
        if not isinstance(credentials, dict):
            raise CommandError(f"--credentials-file {path}: expected a JSON object")
        return credentials
