"""Writes for certificates: requesting (the caller's part) and issuing (the worker's part)."""

from apps.certificates.services.issuance import certificate_issue
from apps.certificates.services.requests import CertificateRequestError, certificate_request

__all__ = ["CertificateRequestError", "certificate_issue", "certificate_request"]
