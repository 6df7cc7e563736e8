"""Per-tenant OpenID Connect sign-in on top of mozilla-django-oidc: its views and backend read the
provider from the tenant's SsoSettings row instead of Django settings (see README, single sign-on)."""
