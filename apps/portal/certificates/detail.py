"""/certificates/<pk>/: a certificate's facts (names, issuer, validity, key, usages, fingerprint,
chain), its versions, its jobs (a fragment htmx polls every JOBS_POLL_SECONDS while one is queued or
running; once it has finished the page reloads itself to show the new state), downloads, and for
operators the renew / revoke / settings / delete controls."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError

from apps.certificates.admin_request import FallbackChainField
from apps.certificates.pki.revocation_rules import LEAF_REASONS
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from apps.certificates.selectors import OPEN_JOB_STATUSES, certificate_version, job_list, version_list
from apps.certificates.services.acme_options import fallback_names
from apps.certificates.services.certificates import certificate_update
from apps.portal.base import PortalView
from apps.portal.certificates.common import CertificatePageMixin, chain_of
from apps.portal.certificates.files import PUBLIC_DOWNLOADS, KeyDownloadForm

JOBS_SHOWN = 20
JOBS_POLL_SECONDS = 2


def jobs_context(certificate) -> dict:
    jobs = list(job_list().filter(certificate=certificate)[:JOBS_SHOWN])
    open_job = next((job for job in jobs if job.status in OPEN_JOB_STATUSES), None)
    return {"jobs": jobs, "open_job": open_job, "poll_seconds": JOBS_POLL_SECONDS}


class SettingsForm(forms.Form):
    auto_renew = forms.BooleanField(label="Renew automatically", required=False)
    renew_before_days = forms.IntegerField(
        label="Renew this many days before it ends", required=False, min_value=1, max_value=365,
        help_text="empty: the tenant's threshold",
    )  # fmt: skip
    fallback_ca_accounts = FallbackChainField(label="Issuer fallback chain")

    def __init__(self, *args, certificate, **kwargs):
        super().__init__(*args, **kwargs)
        if certificate.is_private:
            del self.fields["fallback_ca_accounts"]  # ACME's: a private CA's certificate has its one issuer


def revoke_reasons(certificate) -> tuple[str, ...]:
    """What the certificate's issuer takes: a private CA also a hold (certificatehold)."""
    return LEAF_REASONS if certificate.is_private else REVOCATION_REASONS


class CertificateDetailView(CertificatePageMixin, PortalView):
    nav = "certificates"
    template_name = "portal/certificates/detail.html"

    @property
    def title(self) -> str:
        return self.certificate.identifier

    def get_context_data(self, **kwargs):
        certificate = self.certificate
        version = certificate_version(certificate=certificate) if certificate.current_version_id else None
        chain = fallback_names(certificate)
        initial = {"auto_renew": certificate.auto_renew, "renew_before_days": certificate.renew_before_days,
                   "fallback_ca_accounts": chain}  # fmt: skip
        return super().get_context_data(
            version=version,
            fallback_chain=chain,
            chain=chain_of(version),
            versions=list(version_list(certificate=certificate)),
            public_downloads=PUBLIC_DOWNLOADS,
            key_form=KeyDownloadForm(),
            settings_form=SettingsForm(initial=initial, certificate=certificate),
            **jobs_context(certificate),
            **kwargs,
        )


class CertificateJobsView(CertificatePageMixin, PortalView):
    """The certificate's jobs alone (the fragment the page polls; a page of its own without htmx).
    Polled with ``watching`` while a job was open: once none is, htmx reloads the whole page
    (HX-Refresh), which then shows the new version, or the failure and its reason."""

    title = "Jobs"
    nav = "certificates"
    template_name = "portal/certificates/jobs.html"
    partial_template_name = "portal/certificates/_jobs.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        response = self.render_to_response(context)
        if request.GET.get("watching") and context["open_job"] is None:
            response["HX-Refresh"] = "true"
        return response

    def get_context_data(self, **kwargs):
        return super().get_context_data(**jobs_context(self.certificate), **kwargs)


class CertificateSettingsView(CertificatePageMixin, PortalView):
    """POST: auto-renew, its threshold and the issuer fallback chain, through certificate_update."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = SettingsForm(request.POST, certificate=self.certificate)
        if not form.is_valid():
            for field, errors in form.errors.items():
                messages.error(request, f"{form.fields[field].label if field in form.fields else ''}: {errors[0]}")
            return self.back()
        try:
            certificate_update(certificate=self.certificate, actor=self.actor, **form.cleaned_data)
        except ValidationError as exc:
            self.refused(exc)
        else:
            messages.success(request, f"{self.certificate.identifier}: settings saved.")
        return self.back()
