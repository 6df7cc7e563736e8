"""Files the certificate pages hand out: one download as an HTTP answer, the bulk ZIP of several
certificates' public files, and the key download form (a POST: each download holding the key is
recorded by certificate_download before it leaves)."""

from __future__ import annotations

import io
import zipfile

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.http import content_disposition_header

from apps.certificates.admin_actions import KeyDownloadForm as AdminKeyDownloadForm
from apps.certificates.models import Certificate
from apps.certificates.selectors import certificate_version
from apps.certificates.services.downloads import (
    PUBLIC_ZIP_FILES,
    Download,
    DownloadRequest,
    KeyFormat,
    certificate_download,
    safe_filename,
)
from apps.certificates.services.pkcs12 import Pkcs12Encryption
from certmate.actors import Actor
from certmate.errors import NotFound

# The downloads that hold the private key (operators, a POST, recorded in the audit log).
KEY_DOWNLOADS = {
    "cert.pfx": "cert.pfx (PKCS#12: certificate, chain and key, under a password)",
    "privkey.pem": "privkey.pem (the private key alone)",
    "combined.pem": "combined.pem (full chain and key)",
    "zip": "ZIP: cert.pem, chain.pem, fullchain.pem, privkey.pem",
}
# The public files anyone who may read the certificate downloads (GET), with what each holds.
PUBLIC_DOWNLOADS = {
    "cert.pem": "the certificate (PEM)",
    "chain.pem": "the issuers (PEM)",
    "fullchain.pem": "certificate and issuers (PEM)",
    "cert.der": "the certificate (DER)",
    "ca.pem": "the CA certificates to trust (PEM)",
}


def said(exc: Exception) -> str:
    """A refusal in the service's own words."""
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def file_response(download: Download) -> HttpResponse:
    response = HttpResponse(download.content, content_type=download.content_type)
    response["Content-Disposition"] = content_disposition_header(True, download.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def public_zip(rows: list[Certificate], actor: Actor) -> Download:
    """One ZIP: ``<kind>/<name>/cert.pem|chain.pem|fullchain.pem`` for each row with an issued version,
    and README.txt naming those left out and why."""
    buffer, left_out = io.BytesIO(), []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for certificate in rows:
            try:
                version = certificate_version(certificate=certificate)
                files = [certificate_download(version=version, request=DownloadRequest(file=name), actor=actor)
                         for name in PUBLIC_ZIP_FILES]  # fmt: skip
            except (NotFound, ValidationError) as exc:
                left_out.append(f"{certificate.kind} {certificate.identifier}: {said(exc)}")
                continue
            folder = f"{certificate.kind}/{safe_filename(certificate.identifier)}"
            for name, download in zip(PUBLIC_ZIP_FILES, files, strict=True):
                archive.writestr(f"{folder}/{name}", download.content)
        lines = [f"{len(rows) - len(left_out)} certificate(s), public files only (no private key)."]
        if left_out:
            lines += ["", "Left out:", *left_out]
        archive.writestr("README.txt", "\n".join(lines) + "\n")
    return Download("certificates_public.zip", "application/zip", buffer.getvalue())


class KeyDownloadForm(AdminKeyDownloadForm):
    """The tenant admin's form (file, and a password a PKCS#12 file must have) with the key's format,
    the PKCS#12 encryption and the version."""

    key_format = forms.ChoiceField(label="Key format", required=False,
                                   choices=[("", "as stored (PKCS#8)"), *KeyFormat.choices])  # fmt: skip
    encryption = forms.ChoiceField(label="PKCS#12 encryption", required=False, initial=Pkcs12Encryption.MODERN,
                                   choices=Pkcs12Encryption.choices)  # fmt: skip
    version = forms.IntegerField(required=False, min_value=1, max_value=1_000_000, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].choices = list(KEY_DOWNLOADS.items())
        self.fields["file"].label = "File"
        self.fields["password"].strip = False
        self.order_fields(["file", "key_format", "password", "encryption"])

    def download_request(self) -> DownloadRequest:
        data = self.cleaned_data
        if data["file"] == "zip":
            return DownloadRequest(key_format=data["key_format"] or None)
        return DownloadRequest(
            file=data["file"],
            key_format=data["key_format"] or None,
            password=data["password"] or None,
            pkcs12_encryption=data["encryption"] or Pkcs12Encryption.MODERN,
        )
