"""CertMate's client-certificate routes (no trailing slash). The fixed words (create, stats, batch) come
before {identifier}."""

from django.urls import path

from apps.certificates.api.client_certs import views

CERTIFICATE = "api/client-certs/<str:identifier>"

urlpatterns = [
    path("api/client-certs", views.ClientCertificateListView.as_view(), name="client-cert-list"),
    path("api/client-certs/create", views.ClientCertificateCreateView.as_view(), name="client-cert-create"),
    path("api/client-certs/stats", views.ClientCertificateStatsView.as_view(), name="client-cert-stats"),
    path("api/client-certs/batch", views.ClientCertificateBatchView.as_view(), name="client-cert-batch"),
    path(CERTIFICATE, views.ClientCertificateDetailView.as_view(), name="client-cert-detail"),
    path(f"{CERTIFICATE}/download/<str:file_type>", views.ClientCertificateFileView.as_view(), name="client-cert-file"),
    path(f"{CERTIFICATE}/renew", views.ClientCertificateRenewView.as_view(), name="client-cert-renew"),
    path(f"{CERTIFICATE}/revoke", views.ClientCertificateRevokeView.as_view(), name="client-cert-revoke"),
]
