"""The tenant admin's view of imports from CertMate: what was imported (records), and an upload page
for a CertMate backup zip that shows the report. Only the tenant's admins may import."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path

from apps.accounts.models import Role
from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.importing.models import ImportedObject
from apps.importing.report import Outcome
from apps.importing.services.certmate import certmate_import
from apps.importing.source import SourceError
from apps.importing.upload import uploaded_zip
from certmate.admin_services import admin_actor


class CertmateUploadForm(forms.Form):
    backup = forms.FileField(label="CertMate backup (.zip)", help_text="a unified backup made with its secrets")
    secret_key = forms.CharField(
        label="CertMate's SECRET_KEY",
        required=False,
        max_length=4096,
        widget=forms.PasswordInput,
        help_text="the content of its data/.secret_key (or the SECRET_KEY it ran with): keeps its API tokens working",
    )
    users_domain = forms.CharField(
        label="e-mail domain for users", required=False, max_length=253,
        help_text="users CertMate knew by name only become <name>@this domain",
    )  # fmt: skip
    dry_run = forms.BooleanField(label="dry run (report only, write nothing)", required=False, initial=True)


@admin.register(ImportedObject, site=tenant_admin_site)
class ImportedObjectAdmin(RecordAdmin):
    list_display = ("source_key", "kind", "target", "imported_at", "updated_at")
    list_filter = ("kind",)
    search_fields = ("source_key",)
    change_list_template = "admin/importing/importedobject/change_list.html"

    def has_change_permission(self, request, obj=None):
        return False

    def has_import_permission(self, request) -> bool:
        return request.user.is_active and request.user.has_role(Role.ADMIN)

    def get_urls(self):
        view = self.admin_site.admin_view(self.upload_view)
        return [path("upload/", view, name="importing_importedobject_upload"), *super().get_urls()]

    def upload_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        request.current_app = self.admin_site.name
        form = CertmateUploadForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with uploaded_zip(data["backup"]) as path:
                    report = certmate_import(path=path, actor=admin_actor(request), dry_run=data["dry_run"],
                                             secret_key=data["secret_key"] or None,
                                             users_domain=data["users_domain"].strip())  # fmt: skip
                report.source = data["backup"].name[:200]
            except (SourceError, ValidationError) as exc:
                form.add_error("backup", "; ".join(getattr(exc, "messages", [str(exc)])))
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form, "report": report,
            "title": "Import from CertMate", "attention": report.by_outcome(Outcome.ATTENTION) if report else [],
        }  # fmt: skip
        return TemplateResponse(request, "admin/importing/upload.html", context)
