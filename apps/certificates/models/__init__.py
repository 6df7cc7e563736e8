from apps.certificates.models.certificates import Certificate, CertificateKind, CertificateStatus, CertificateVersion
from apps.certificates.models.jobs import Job, JobOperation, JobStatus, RenewalSweep

__all__ = [
    "Certificate",
    "CertificateKind",
    "CertificateStatus",
    "CertificateVersion",
    "Job",
    "JobOperation",
    "JobStatus",
    "RenewalSweep",
]
