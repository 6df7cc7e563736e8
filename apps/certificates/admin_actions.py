"""What a certificate's admin page does besides saving its settings: renew now, revoke with a reason (a
small page of its own, for one certificate or the selected ones), and downloads. Every one is a service
call (certificate_renew, certificate_revoke, certificate_download) with the admin's actor: the audit
log says "admin" and who. Renewing and revoking need the change permission (operators, admins), as a
key download does; the public files (cert, chain, fullchain, DER, ca.pem) are a viewer's."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header

from apps.certificates.models import Certificate
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from apps.certificates.selectors import certificate_version
from apps.certificates.services.downloads import PUBLIC_FILES, Download, DownloadRequest, certificate_download
from apps.certificates.services.requests import certificate_renew
from apps.certificates.services.revocation import certificate_revoke
from certmate.admin_services import admin_actor, form_errors_from
from certmate.errors import NotFound

URGENT_DAYS = 7  # red below this many days left
SOON_DAYS = 30  # amber below this many, or once the certificate is due for renewal

# The downloads that hold the private key, offered on their own page (a POST, and each one recorded).
KEY_DOWNLOADS = {
    "zip": "ZIP: cert.pem, chain.pem, fullchain.pem, privkey.pem",
    "privkey.pem": "privkey.pem (the private key alone)",
    "combined.pem": "combined.pem (full chain and key)",
    "cert.pfx": "cert.pfx (PKCS#12, with a password)",
}


REVOKE_INTRO = (
    "The current version is revoked at its issuer (an ACME CA through a job; a private CA at once, in its "
    "CRL). Nothing replaces it on its own: renew the certificate to serve a new version."
)
KEY_INTRO = "Each download holding the private key is recorded in the audit log (who, when, which format)."


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(choices=[(reason, reason) for reason in REVOCATION_REASONS], initial="unspecified")


class KeyDownloadForm(forms.Form):
    file = forms.ChoiceField(label="download", choices=list(KEY_DOWNLOADS.items()))
    password = forms.CharField(
        label="PKCS#12 password",
        required=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="for cert.pfx only: whoever imports the file types it",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("file") == "cert.pfx" and not cleaned.get("password"):
            self.add_error("password", "a PKCS#12 file needs a password: certmate never hands out an unencrypted key")
        return cleaned

    def download_request(self) -> DownloadRequest:
        file = self.cleaned_data["file"]
        if file == "zip":
            return DownloadRequest()
        return DownloadRequest(file=file, password=self.cleaned_data["password"] or None)


def _file_response(download: Download) -> HttpResponse:
    response = HttpResponse(download.content, content_type=download.content_type)
    response["Content-Disposition"] = content_disposition_header(True, download.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _said(exc: Exception) -> str:
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


class CertificateActions:
    """Mixed into the certificates' ModelAdmin: its extra URLs, views and the list's actions."""

    def action_urls(self) -> list:
        view, name = self.admin_site.admin_view, "certificates_certificate"
        return [
            path("<int:pk>/renew/", view(self.renew_view), name=f"{name}_renew"),
            path("<int:pk>/revoke/", view(self.revoke_view), name=f"{name}_revoke"),
            path("<int:pk>/download/", view(self.key_download_view), name=f"{name}_download_key"),
            path("<int:pk>/download/<str:file>/", view(self.download_view), name=f"{name}_download"),
        ]

    def _certificate(self, request, pk: int, *, change: bool) -> Certificate:
        certificate = get_object_or_404(self.get_queryset(request), pk=pk)
        allowed = self.has_change_permission if change else self.has_view_permission
        if not allowed(request, certificate):
            raise PermissionDenied
        return certificate

    def _back(self, certificate: Certificate) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:certificates_certificate_change",
                                            args=[certificate.pk]))  # fmt: skip

    def _page(self, request, title: str, **context) -> TemplateResponse:
        request.current_app = self.admin_site.name
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context}
        return TemplateResponse(request, "admin/certificates/certificate/action_form.html", context)

    # --- the list's "days left" -------------------------------------------------------------------

    @admin.display(description="days left", ordering="current_version__not_after")
    def days_left(self, obj: Certificate):
        """The number as text, its colour repeating it: red within URGENT_DAYS or expired (or revoked),
        amber once due for renewal (or within SOON_DAYS), green otherwise."""
        version = obj.current_version
        if version is None:
            return "—"
        now = timezone.now()
        days = (version.not_after - now).days
        if version.revoked_at:
            band, text = "urgent", "revoked"
        elif version.not_after <= now:
            band, text = "urgent", "expired"
        else:
            due = (obj.renew_at and obj.renew_at <= now) or days < SOON_DAYS
            band = "urgent" if days < URGENT_DAYS else "soon" if due else "ok"
            text = f"{days} day{'' if days == 1 else 's'}"
        return format_html('<span class="days-left band-{}">{}</span>', band, text)

    # --- renew -----------------------------------------------------------------------------------

    def renew_one(self, request, certificate: Certificate) -> None:
        try:
            job, _ = certificate_renew(certificate=certificate, force=True, actor=admin_actor(request))
        except ValidationError as exc:
            self.message_user(request, f"{certificate}: {'; '.join(exc.messages)}", messages.ERROR)
        else:
            self.message_user(request, f"{certificate}: renewal job {job.pk} {job.status}")

    def renew_view(self, request, pk: int):
        """GET asks to confirm; POST queues the renewal (forced: due or not)."""
        certificate = self._certificate(request, pk, change=True)
        if request.method == "POST":
            self.renew_one(request, certificate)
            return self._back(certificate)
        intro = "A new version is ordered now, due or not; the current one is served until then."
        return self._page(request, f"Renew {certificate} now", form=forms.Form(), certificates=[certificate],
                          intro=intro, submit="Renew now")  # fmt: skip

    # --- revoke ----------------------------------------------------------------------------------

    def revoke_each(self, request, certificates, reason: str) -> None:
        for certificate in certificates:
            try:
                job = certificate_revoke(certificate=certificate, reason=reason, actor=admin_actor(request))
            except ValidationError as exc:
                self.message_user(request, f"{certificate}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{certificate}: revocation ({job.revocation_reason}) job {job.pk} "
                                           f"{job.status}")  # fmt: skip

    def revoke_view(self, request, pk: int):
        certificate = self._certificate(request, pk, change=True)
        form = RevokeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self.revoke_each(request, [certificate], form.cleaned_data["reason"])
            return self._back(certificate)
        return self._page(request, f"Revoke {certificate}", form=form, certificates=[certificate], intro=REVOKE_INTRO,
                          submit="Revoke")  # fmt: skip

    def revoke_selected_page(self, request, queryset):
        """The list's action: a page asking for the reason, then each certificate through the service."""
        form = RevokeForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            self.revoke_each(request, queryset, form.cleaned_data["reason"])
            return None  # back to the list, with a message per certificate
        return self._page(request, "Revoke the selected certificates", form=form, certificates=list(queryset),
                          action="revoke_selected", intro=REVOKE_INTRO, submit="Revoke")  # fmt: skip

    # --- downloads -------------------------------------------------------------------------------

    def download_view(self, request, pk: int, file: str):
        """One public file of the current version (GET): nothing secret, nothing recorded."""
        certificate = self._certificate(request, pk, change=False)
        if file not in PUBLIC_FILES:
            raise PermissionDenied  # a key file is downloaded through the page that records it
        try:
            version = certificate_version(certificate=certificate)
            download = certificate_download(
                version=version, request=DownloadRequest(file=file), actor=admin_actor(request)
            )
        except (NotFound, ValidationError) as exc:
            self.message_user(request, f"{certificate}: {_said(exc)}", messages.ERROR)
            return self._back(certificate)
        return _file_response(download)

    def key_download_view(self, request, pk: int):
        """A download holding the private key: asked for with a POST, recorded (private_key.downloaded)
        by the service before the file leaves."""
        certificate = self._certificate(request, pk, change=True)
        form = KeyDownloadForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                version = certificate_version(certificate=certificate)
                download = certificate_download(
                    version=version, request=form.download_request(), actor=admin_actor(request)
                )
            except NotFound as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                return _file_response(download)
        return self._page(request, f"Download {certificate} with its private key", form=form,
                          certificates=[certificate], intro=KEY_INTRO, submit="Download")  # fmt: skip
