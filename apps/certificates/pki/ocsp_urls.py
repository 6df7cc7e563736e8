"""The OCSP responder's paths on a tenant's host: POST /pki/ocsp, GET /pki/ocsp/<base64 request>."""

from django.urls import path, re_path

from apps.certificates.pki.ocsp_views import ocsp_endpoint

urlpatterns = [
    path("pki/ocsp", ocsp_endpoint, name="pki-ocsp"),
    # Everything after the slash is the request (base64 holds '/'), but a CA named "ocsp"'s files; POST
    # there reads the body as well.
    re_path(r"^pki/ocsp/(?P<encoded>(?!(?:crl|ca)\.(?:der|pem)/?\Z)[\s\S]*)\Z", ocsp_endpoint, name="pki-ocsp-get"),
]
