"""Settings per environment: base (shared), dev, prod, test. Select with DJANGO_SETTINGS_MODULE."""
