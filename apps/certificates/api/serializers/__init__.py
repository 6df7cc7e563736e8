from apps.certificates.api.serializers.certificates import (
    CertificateSerializer,
    CertMateCreatedSerializer,
    VersionSerializer,
    listing_context,
)
from apps.certificates.api.serializers.jobs import JobAcceptedSerializer, JobDetailSerializer, JobSerializer
from apps.certificates.api.serializers.requests import (
    AutoRenewSerializer,
    CertificateFilterSerializer,
    CertificateRequestSerializer,
    CertificateUpdateSerializer,
    DownloadQuerySerializer,
    DownloadSerializer,
    JobFilterSerializer,
    RenewSerializer,
    RevokeSerializer,
    UnholdSerializer,
)

__all__ = [
    "AutoRenewSerializer",
    "CertMateCreatedSerializer",
    "CertificateFilterSerializer",
    "CertificateRequestSerializer",
    "CertificateSerializer",
    "CertificateUpdateSerializer",
    "DownloadQuerySerializer",
    "DownloadSerializer",
    "JobAcceptedSerializer",
    "JobDetailSerializer",
    "JobFilterSerializer",
    "JobSerializer",
    "RenewSerializer",
    "RevokeSerializer",
    "UnholdSerializer",
    "VersionSerializer",
    "listing_context",
]
