"""Certificate API routes (tenant hosts), included from certmate/urls_tenant.py at the root."""

urlpatterns: list = []
