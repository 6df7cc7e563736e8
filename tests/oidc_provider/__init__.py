"""A real OpenID Connect provider for the single sign-on tests: a tiny Django project running
django-oauth-toolkit over TLS on loopback, in its own process with its own SQLite database.
Start it with tests.oidc_provider.server.OidcProvider."""
