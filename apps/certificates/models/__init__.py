from apps.certificates.models.certificates import Certificate, CertificateKind, CertificateStatus, CertificateVersion
from apps.certificates.models.events import CertificateEvent, EventDelivery, EventKind
from apps.certificates.models.jobs import Job, JobOperation, JobStatus, RenewalSweep

__all__ = [
    "Certificate",
    "CertificateEvent",
    "CertificateKind",
    "CertificateStatus",
    "CertificateVersion",
    "EventDelivery",
    "EventKind",
    "Job",
    "JobOperation",
    "JobStatus",
    "RenewalSweep",
]
