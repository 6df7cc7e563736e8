"""CA account, DNS account and tenant settings endpoints under /api/ on tenant hosts (no trailing slashes,
like the certificate endpoints)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.certificates.api.accounts import certmate_ca_test, certmate_dns, views

router = SimpleRouter(trailing_slash=False)
router.register("ca-accounts", views.CaAccountViewSet, basename="api-ca-account")
router.register("dns-accounts", views.DnsAccountViewSet, basename="api-dns-account")

DNS_ACCOUNTS = certmate_dns.CertMateDnsAccountsView.as_view()
DNS_ACCOUNT = certmate_dns.CertMateDnsAccountDetailView.as_view()

urlpatterns = [
    # CertMate's DNS account paths (its account_id is the account's name)
    path("dns/accounts", DNS_ACCOUNTS, name="certmate-dns-accounts"),
    path("dns-providers/accounts", DNS_ACCOUNTS, name="certmate-dns-providers-accounts"),
    path("dns/<str:provider>/accounts", DNS_ACCOUNTS, name="certmate-dns-provider-accounts"),
    path("dns-providers/accounts/<str:account_id>", DNS_ACCOUNT, name="certmate-dns-providers-account"),
    path("dns/<str:provider>/accounts/<str:account_id>", DNS_ACCOUNT, name="certmate-dns-provider-account"),
    path("dns-providers", views.DnsProviderListView.as_view(), name="api-dns-providers"),
    path("settings", views.TenantSettingsView.as_view(), name="api-settings"),
    path("settings/test-ca-provider", certmate_ca_test.CertMateCaTestView.as_view(), name="certmate-test-ca"),
    path("settings/dns-providers", certmate_dns.CertMateDnsProvidersView.as_view(), name="certmate-settings-dns"),
    *router.urls,
]
