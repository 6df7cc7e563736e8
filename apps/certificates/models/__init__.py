from apps.certificates.acme.models import CA_PRESETS, CaAccount, DnsAccount, PropagationCheck
from apps.certificates.models.certificates import (
    Certificate,
    CertificateFallback,
    CertificateKind,
    CertificateStatus,
    CertificateVersion,
    Challenge,
    KeyType,
)
from apps.certificates.models.events import CertificateEvent, EventDelivery, EventKind
from apps.certificates.models.jobs import FallbackOrder, Job, JobOperation, JobStatus, RenewalSweep
from apps.certificates.models.reissue import BulkReissue, ReissueItem, ReissueItemStatus, ReissueStatus
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
    "BulkReissue",
    "BulkRevocation",
    "BulkRevocationStatus",
    "CaAccount",
    "CaKeyType",
    "CaOrigin",
    "CaState",
    "Certificate",
    "CertificateAuthority",
    "CertificateEvent",
    "CertificateFallback",
    "CertificateKind",
    "CertificateProfile",
    "CertificateStatus",
    "CertificateVersion",
    "Challenge",
    "DnsAccount",
    "EventDelivery",
    "EventKind",
    "FallbackOrder",
    "IssuanceBatch",
    "Job",
    "JobOperation",
    "JobStatus",
    "KeyType",
    "OcspResponder",
    "ProfileKind",
    "PropagationCheck",
    "ReissueItem",
    "ReissueItemStatus",
    "ReissueStatus",
    "RenewalSweep",
    "RevocationList",
    "SanType",
    "TenantSettings",
]
