"""Certificate API routes (tenant hosts), included from certmate/urls_tenant.py at the root: CertMate's
paths (no trailing slash) plus certmate's own. Fixed words (create, jobs) come before {domain}, which
takes wildcards as they are (*.example.com) or encoded (%2A.example.com)."""

from django.urls import include, path, re_path

from apps.certificates.api import views
from apps.certificates.api.ocsp_status import OcspStatusView
from apps.certificates.api.reissues import BulkReissueDetailView, BulkReissueListView
from apps.certificates.api.views.deployment import CertificateDeploymentStatusView

CERTIFICATE = "api/certificates/<str:domain>"

urlpatterns = [
    # CertMate's /api/client-certs (the private CA's client certificates).
    path("", include("apps.certificates.api.client_certs.urls")),
    path("api/certificates", views.CertificateListView.as_view(), name="certificate-list"),
    path("api/certificates/create", views.CertMateCreateView.as_view(), name="certificate-create"),
    path("api/certificates/jobs", views.JobListView.as_view(), name="certificate-job-list"),
    path("api/certificates/jobs/<int:job_id>", views.JobDetailView.as_view(), name="certificate-job-detail"),
    path(CERTIFICATE, views.CertificateDetailView.as_view(), name="certificate-detail"),
    path(f"{CERTIFICATE}/renew", views.CertificateRenewView.as_view(), name="certificate-renew"),
    path(f"{CERTIFICATE}/deployment-status", CertificateDeploymentStatusView.as_view(), name="certificate-deployment"),
    path(f"{CERTIFICATE}/reissue", views.CertificateReissueView.as_view(), name="certificate-reissue"),
    path(f"{CERTIFICATE}/revoke", views.CertificateRevokeView.as_view(), name="certificate-revoke"),
    path(f"{CERTIFICATE}/unhold", views.CertificateUnholdView.as_view(), name="certificate-unhold"),
    path(f"{CERTIFICATE}/auto-renew", views.CertificateAutoRenewView.as_view(), name="certificate-auto-renew"),
    path(f"{CERTIFICATE}/versions", views.CertificateVersionsView.as_view(), name="certificate-versions"),
    path(f"{CERTIFICATE}/download", views.CertificateDownloadView.as_view(), name="certificate-download"),
    path(
        f"{CERTIFICATE}/download/<str:file_type>", views.CertificateFileView.as_view(), name="certificate-download-file"
    ),
    # CertMate's OCSP status in JSON (ASCII digits only: the serial is decimal).
    re_path(r"^api/ocsp/status/(?P<serial>[0-9]+)$", OcspStatusView.as_view(), name="ocsp-status"),
    path("<str:domain>/tls", views.TlsView.as_view(), name="certificate-tls"),
    # Bulk reissues: renew what a selector matches, revoking the old versions once the new ones are live.
    path("api/reissues", BulkReissueListView.as_view(), name="reissue-list"),
    path("api/reissues/<int:bulk_id>", BulkReissueDetailView.as_view(), name="reissue-detail"),
    # The private CAs and their profiles: /api/cas...
    path("", include("apps.certificates.api.pki.urls")),
]
