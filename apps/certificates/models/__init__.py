from apps.certificates.acme.models import CA_PRESETS, CaAccount, DnsAccount
from apps.certificates.models.certificates import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    CertificateVersion,
    KeyType,
)
from apps.certificates.models.downloads import KeyDownload, KeyDownloadFormat
from apps.certificates.models.jobs import Job, JobOperation, JobStatus, RenewalSweep
from apps.certificates.models.settings import TenantSettings

__all__ = [
    "CA_PRESETS",
    "CaAccount",
    "Certificate",
    "CertificateKind",
    "CertificateStatus",
    "CertificateVersion",
    "DnsAccount",
    "Job",
    "JobOperation",
    "JobStatus",
    "KeyDownload",
    "KeyDownloadFormat",
    "KeyType",
    "RenewalSweep",
    "TenantSettings",
]
