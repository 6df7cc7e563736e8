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
from apps.certificates.pki.batches import BatchStatus, IssuanceBatch
from apps.certificates.pki.models import (
    CaKeyType,
    CaOrigin,
    CaState,
    CertificateAuthority,
    CertificateProfile,
    ProfileKind,
    SanType,
)
from apps.certificates.pki.revocation_models import (
    BulkRevocation,
    BulkRevocationStatus,
    OcspResponder,
    RevocationList,
)

__all__ = [
    "CA_PRESETS",
    "BatchStatus",
    "BulkRevocation",
    "BulkRevocationStatus",
    "CaAccount",
    "CaKeyType",
    "CaOrigin",
    "CaState",
    "Certificate",
    "CertificateAuthority",
    "CertificateEvent",
    "CertificateKind",
    "CertificateProfile",
    "CertificateStatus",
    "CertificateVersion",
    "DnsAccount",
    "EventDelivery",
    "EventKind",
    "IssuanceBatch",
    "Job",
    "JobOperation",
    "JobStatus",
    "KeyType",
    "OcspResponder",
    "ProfileKind",
    "RenewalSweep",
    "RevocationList",
    "SanType",
    "TenantSettings",
]
