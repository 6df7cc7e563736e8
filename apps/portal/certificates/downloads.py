"""Downloads of a certificate's version: the public files with a GET (anyone who may read it), the
files holding the private key with a POST form (operators; a PKCS#12 file asks for its password), each
recorded by the download service (``private_key.downloaded``, channel portal) before it leaves."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.certificates.selectors import certificate_version
from apps.certificates.services.downloads import DownloadRequest, certificate_download
from apps.portal.base import PortalView
from apps.portal.certificates.common import CertificateFormPage, CertificatePageMixin
from apps.portal.certificates.files import PUBLIC_DOWNLOADS, KeyDownloadForm, file_response
from certmate.admin_services import form_errors_from
from certmate.errors import NotFound


def _version_number(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 8 else None


class PublicFileView(CertificatePageMixin, PortalView):
    """GET /certificates/<pk>/download/<file>/ (``?version=N``: that version, else the current one)."""

    def get(self, request, *args, **kwargs):
        file = self.kwargs["file"]
        if file not in PUBLIC_DOWNLOADS:
            raise NotFound(f"no file {file[:40]!r} to download here")
        number = _version_number(request.GET.get("version"))
        try:
            version = certificate_version(certificate=self.certificate, number=number)
            download = certificate_download(version=version, request=DownloadRequest(file=file), actor=self.actor)
        except ValidationError as exc:
            self.refused(exc)
            return self.back()
        return file_response(download)


class KeyDownloadView(CertificateFormPage):
    """GET: the form on a page of its own; POST: the file, or the form again with the service's words."""

    template_name = "portal/certificates/key_download.html"
    title_format = "Download {} with its private key"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=KeyDownloadForm()))

    def post(self, request, *args, **kwargs):
        form = KeyDownloadForm(request.POST)
        if form.is_valid():
            try:
                version = certificate_version(certificate=self.certificate, number=form.cleaned_data["version"])
                download = certificate_download(version=version, request=form.download_request(), actor=self.actor)
            except NotFound as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                return file_response(download)
        return self.render_to_response(self.get_context_data(form=form), status=400)
