"""The secrets sweep's parts: marker secrets and their scanner, the tenants they are configured in, and
walks over every place certmate shows or keeps text (tests/e2e/test_secrets_sweep.py runs them)."""
