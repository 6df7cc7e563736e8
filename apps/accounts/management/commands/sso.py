from django.core.management.base import BaseCommand

from apps.accounts.management.commands._tenant import in_tenant
from apps.accounts.selectors import sso_settings_get
from apps.accounts.services.sso import sso_password_signin_restore
from certmate.actors import Actor


class Command(BaseCommand):
    help = "Show a tenant's single sign-on, or let its users sign in with passwords again."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="the provider, client and role mapping (never the secret)")
        show.add_argument("tenant", help="the tenant's slug")
        restore = sub.add_parser("password-signin", help="turn SSO-only off: passwords work again")
        restore.add_argument("tenant", help="the tenant's slug")

    def handle(self, *args, action, tenant, **options):
        with in_tenant(tenant):
            if action == "show":
                config = sso_settings_get()
                for label, value in (
                    ("enabled", config.enabled),
                    ("name", config.name or "-"),
                    ("issuer", config.issuer or "-"),
                    ("client id", config.client_id or "-"),
                    ("client secret", "stored" if config.has_client_secret else "none"),
                    ("role claim", config.role_claim),
                    ("role values", config.role_values),
                    ("SSO only", config.sso_only),
                ):
                    self.stdout.write(f"{label}: {value}")
            elif sso_password_signin_restore(actor=Actor.command(name="manage.py sso password-signin")):
                self.stdout.write(f"{tenant}: password sign-in is on again (SSO only is off)")
            else:
                self.stdout.write(f"{tenant}: password sign-in was already on")
