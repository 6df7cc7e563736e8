from apps.certificates.api.views.certificates import (
    CertificateAutoRenewView,
    CertificateDetailView,
    CertificateListView,
    CertMateCreateView,
)
from apps.certificates.api.views.downloads import CertificateDownloadView, CertificateFileView, TlsView
from apps.certificates.api.views.operations import CertificateReissueView, CertificateRenewView
from apps.certificates.api.views.versions import (
    CertificateRevokeView,
    CertificateUnholdView,
    CertificateVersionsView,
    JobDetailView,
    JobListView,
)

__all__ = [
    "CertMateCreateView",
    "CertificateAutoRenewView",
    "CertificateDetailView",
    "CertificateDownloadView",
    "CertificateFileView",
    "CertificateListView",
    "CertificateReissueView",
    "CertificateRenewView",
    "CertificateRevokeView",
    "CertificateUnholdView",
    "CertificateVersionsView",
    "JobDetailView",
    "JobListView",
    "TlsView",
]
