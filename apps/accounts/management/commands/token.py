from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._table import table_lines
from apps.accounts.management.commands._tenant import in_tenant
from apps.accounts.models import ApiToken, Role, User
from apps.accounts.services.tokens import token_create, token_revoke
from certmate.actors import Actor


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "Create, list and revoke API tokens of a tenant's users."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token; its text is printed once, on the last line")
        create.add_argument("--tenant", required=True, help="the tenant's slug")
        create.add_argument("--user", required=True, help="e-mail of the user the token acts for")
        create.add_argument("--role", required=True, choices=Role.values, help="at most the user's role")
        create.add_argument("--expires-days", type=int, help="days until it expires (default: never)")
        create.add_argument("--name", default="", help="what the token is for")
        listing = sub.add_parser("list", help="list tokens (their prefixes, never their text)")
        listing.add_argument("--tenant", required=True)
        revoke = sub.add_parser("revoke", help="revoke the token with this prefix")
        revoke.add_argument("--tenant", required=True)
        revoke.add_argument("--prefix", required=True, help="the token's first characters, as listed")

    def handle(self, *args, action, tenant, **options):
        try:
            with in_tenant(tenant):
                getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise command_error(exc) from None

    def _create(self, *, user, role, expires_days, name, **_):
        owner = User.objects.filter(email=user.strip().lower()).first()
        if owner is None:
            raise CommandError(f"no user with e-mail {user!r} in this tenant")
        if expires_days is not None and not 1 <= expires_days <= 3650:
            raise CommandError("--expires-days must be between 1 and 3650")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token, raw = token_create(
            user=owner, role=role, name=name, expires_at=expires_at, actor=Actor.command(name="manage.py token create")
        )
        self.stderr.write(f"created {role} token {token.prefix}… for {owner.email} (shown once: store it now)")
        self.stdout.write(raw)

    def _list(self, **_):
        header = ("PREFIX", "USER", "ROLE", "NAME", "CREATED", "EXPIRES", "LAST USED", "REVOKED")
        dates = ("created_at", "expires_at", "last_used_at", "revoked_at")
        rows = [
            (t.prefix, t.user.email, t.role, t.name or "-", *(_when(getattr(t, d)) for d in dates))
            for t in ApiToken.objects.select_related("user")
        ]
        for line in table_lines(header, rows):
            self.stdout.write(line)

    def _revoke(self, *, prefix, **_):
        matches = list(ApiToken.objects.filter(prefix__startswith=prefix)[:2]) if prefix else []
        if not matches:
            raise CommandError(f"no token with prefix {prefix!r} (see `manage.py token list`)")
        if len(matches) > 1:
            raise CommandError(f"several tokens start with {prefix!r}: give more of the prefix")
        token = token_revoke(token=matches[0], actor=Actor.command(name="manage.py token revoke"))
        self.stdout.write(f"revoked token {token.prefix}… of {matches[0].user.email}")
