"""CA account, DNS account and tenant settings endpoints under /api/ on tenant hosts (no trailing slashes,
like the certificate endpoints)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.certificates.api.accounts import views

router = SimpleRouter(trailing_slash=False)
router.register("ca-accounts", views.CaAccountViewSet, basename="api-ca-account")
router.register("dns-accounts", views.DnsAccountViewSet, basename="api-dns-account")

urlpatterns = [
    path("dns-providers", views.DnsProviderListView.as_view(), name="api-dns-providers"),
    path("settings", views.TenantSettingsView.as_view(), name="api-settings"),
    *router.urls,
]
