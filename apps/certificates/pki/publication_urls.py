"""Routes of what a tenant publishes without authentication (included by certmate/urls_tenant.py): the
/pki/<ca>/ paths its certificates carry (public_urls.py) and CertMate's /api/crl/download/<format>."""

from django.urls import path

from apps.certificates.api.client_certs.crl import CrlDownloadView
from apps.certificates.pki.public_urls import CA_CERTIFICATE_PATH, CRL_PATH
from apps.certificates.pki.publication import ca_view, crl_view


def _route(template: str, encoding: str) -> str:
    """``/pki/{ca}/crl.der`` -> ``pki/<str:ca>/crl.<encoding>``."""
    return template.format(ca="<str:ca>").lstrip("/").removesuffix(".der") + f".{encoding}"


urlpatterns = [
    *(path(_route(CRL_PATH, encoding), crl_view, {"encoding": encoding}, name=f"pki-crl-{encoding}")
      for encoding in ("der", "pem")),
    *(path(_route(CA_CERTIFICATE_PATH, encoding), ca_view, {"encoding": encoding}, name=f"pki-ca-{encoding}")
      for encoding in ("der", "pem")),
    path("api/crl/download/<str:format_type>", CrlDownloadView.as_view(), name="crl-download"),
]  # fmt: skip
