from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from apps.accounts.management.commands._errors import command_error
from apps.accounts.services.bootstrap import platform_bootstrap
from certmate.actors import Actor


class Command(BaseCommand):
    help = "Ensure the public tenant, a platform operator and the demo tenant exist (safe to repeat)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--public-domain",
            action="append",
            dest="public_domains",
            help="repeatable; default localhost and 127.0.0.1",
        )
        parser.add_argument("--operator-email", default="admin@localhost")
        parser.add_argument("--demo", default="demo", help="slug of the demo tenant; empty for none")
        parser.add_argument("--demo-domain", default="demo.localhost")
        parser.add_argument("--demo-admin-email", default="admin@demo.localhost")
        parser.add_argument("--port", type=int, default=8000, help="port shown in the printed URLs")

    def handle(self, *args, **options):
        try:
            logins = platform_bootstrap(
                public_domains=options["public_domains"] or ["localhost", "127.0.0.1"],
                operator_email=options["operator_email"],
                demo_slug=options["demo"] or None,
                demo_domain=options["demo_domain"],
                demo_admin_email=options["demo_admin_email"],
                port=options["port"],
                actor=Actor.command(name="manage.py bootstrap"),
            )
        except ValidationError as exc:
            raise command_error(exc) from None
        for login in logins:
            self.stdout.write(
                f"New {login.where} login (shown once): {login.url}  e-mail {login.email}  password {login.password}"
            )
        if not logins:
            self.stdout.write("Platform and demo tenant already set up; logins were printed when they were created.")
