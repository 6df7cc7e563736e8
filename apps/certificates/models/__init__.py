from apps.certificates.acme.models import CA_PRESETS, CaAccount, DnsAccount
from apps.certificates.models.certificates import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    CertificateVersion,
    KeyType,
)
from apps.certificates.models.events import CertificateEvent, EventDelivery, EventKind
from apps.certificates.models.jobs import Job, JobOperation, JobStatus, RenewalSweep
from apps.certificates.models.settings import TenantSettings
from apps.certificates.pki.models import CaKeyType, CaOrigin, CaState, CertificateAuthority

__all__ = [
    "CA_PRESETS",
    "CaAccount",
    "CaKeyType",
    "CaOrigin",
    "CaState",
    "Certificate",
    "CertificateAuthority",
    "CertificateEvent",
    "CertificateKind",
    "CertificateStatus",
    "CertificateVersion",
    "DnsAccount",
    "EventDelivery",
    "EventKind",
    "Job",
    "JobOperation",
    "JobStatus",
    "KeyType",
    "RenewalSweep",
    "TenantSettings",
]
