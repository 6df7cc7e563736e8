"""django-tenants' own tenant commands, answered with certmate's: they would make or drop a schema
without certmate's checks, template clone and first admin (``manage.py tenant`` does it all)."""

from django.core.management.base import BaseCommand, CommandError


class RefusedCommand(BaseCommand):
    instead = "use `manage.py tenant` (see manage.py tenant --help)"
    requires_system_checks = []  # it only answers

    def run_from_argv(self, argv):
        # Whatever was typed after it, the answer is the same: no option is parsed (none is "unknown").
        super().run_from_argv(argv[:2])

    def handle(self, *args, **options):
        raise CommandError(f"certmate does not offer this command: {self.instead}")
