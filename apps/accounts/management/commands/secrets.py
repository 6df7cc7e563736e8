from django.core.management.base import BaseCommand

from apps.accounts.services.secrets import secrets_rotate


class Command(BaseCommand):
    help = (
        "Manage secrets at rest. `secrets rotate` re-encrypts every secret with the first key of "
        "CERTMATE_ENCRYPTION_KEYS."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser("rotate", help="re-encrypt every secret of every schema with the newest key")
        rotate.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, action, batch_size, verbosity, **options):
        def progress(schema: str, rotated: int) -> None:
            if verbosity > 1 or rotated:
                self.stdout.write(f"{schema}: {rotated} rows re-encrypted")

        report = secrets_rotate(batch_size=batch_size, progress=progress)
        self.stdout.write(
            f"checked {report.checked} rows with secrets in {len(report.per_schema)} schemas, "
            f"re-encrypted {report.rotated}"
        )
