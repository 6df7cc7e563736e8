"""Writes for accounts: tenants, the template schema, users, secrets. Keyword-only, atomic."""
