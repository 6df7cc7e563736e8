"""The tenant's admin for its private CAs (tenant admins only, see apps/accounts/roles.py): facts shown
read-only (certificate, chain, CSR; never the private key), every change a service call — create a
hierarchy (the add form), import a CA, an externally signed intermediate (its CSR to download, then
the signed certificate to upload), and disable / enable / retire / make default as actions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.accounts.sites import tenant_admin_site
from apps.certificates.pki import admin_profiles  # noqa: F401  (the profiles' pages)
from apps.certificates.pki.admin_forms import AuthorityForm, ExternalForm, HierarchyForm, ImportForm, UploadForm
from apps.certificates.pki.admin_revoke import revoke_authorities
from apps.certificates.pki.authorities import ca_default_set, ca_state_set
from apps.certificates.pki.models import CaState, CertificateAuthority
from certmate.admin_services import ServiceAdmin, admin_actor

# What a CA's page shows; never "private_key".
FACTS = (
    "name", "origin", "parent", "state", "is_default", "key_type", "subject", "serial", "serial_bits", "not_before",
    "not_after", "path_length", "name_constraints", "fingerprint_sha256", "revoked_at", "revocation_reason", "issued",
    "created_at", "certificate_pem", "chain_pem", "csr_pem",
)  # fmt: skip


@admin.register(CertificateAuthority, site=tenant_admin_site)
class CertificateAuthorityAdmin(ServiceAdmin):
    form = HierarchyForm
    list_display = ("name", "origin", "state", "is_default", "key_type", "not_after", "issued")
    list_filter = ("origin", "state", "key_type")
    search_fields = ("name", "subject")
    change_list_template = "admin/certificates/certificateauthority/change_list.html"
    change_form_template = "admin/certificates/certificateauthority/change_form.html"
    actions = ["disable", "enable", "retire", "make_default", revoke_authorities]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent").annotate(issued_count=Count("certificates"))

    @admin.display(description="certificates issued", ordering="issued_count")
    def issued(self, obj):
        return obj.issued_count

    # A CA's facts never change by hand: its page is read-only, its changes are the actions and views below.
    def has_change_permission(self, request, obj=None):
        return False

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            kwargs["form"] = AuthorityForm  # nothing to type on a CA's own page
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return FACTS if obj is not None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return FACTS if obj is not None else ()

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="certificates_certificateauthority_import"),
            path("external/", view(self.external_view), name="certificates_certificateauthority_external"),
            path("<int:pk>/upload/", view(self.upload_view), name="certificates_certificateauthority_upload"),
            path("<int:pk>/csr/", view(self.csr_view), name="certificates_certificateauthority_csr"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["title"] = "Create a CA hierarchy (a root and an intermediate)" if add else context.get("title")
        context["can_manage"] = self.has_manage_permission(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- views of their own: import, externally signed intermediate, upload, CSR download ---------------

    def _form_page(self, request, form_class, title: str, *, instance=None):
        """Show ``form_class``; on a valid POST its service ran: go to the CA's page."""
        request.current_app = self.admin_site.name
        form = type(form_class.__name__, (form_class,), {"actor": admin_actor(request)})(
            request.POST or None, instance=instance
        )
        if request.method == "POST" and form.is_valid():
            authority = form.instance
            self.message_user(request, f"{title}: {authority.name} ({authority.get_state_display()}).")
            return HttpResponseRedirect(reverse("tenant_admin:certificates_certificateauthority_change",
                                                args=[authority.pk]))  # fmt: skip
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": title, "form": form,
            "authority": instance,
        }  # fmt: skip
        return TemplateResponse(request, "admin/certificates/service_form.html", context)

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._form_page(request, ImportForm, "Import a CA")

    def external_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._form_page(request, ExternalForm, "Externally signed intermediate")

    def upload_view(self, request, pk: int):
        if not self.has_manage_permission(request):
            raise PermissionDenied
        authority = get_object_or_404(CertificateAuthority, pk=pk, state=CaState.PENDING)
        return self._form_page(request, UploadForm, f"Upload the signed certificate of {authority.name}",
                               instance=authority)  # fmt: skip

    def csr_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        authority = get_object_or_404(CertificateAuthority, pk=pk)
        if not authority.csr_pem:
            raise Http404("this CA has no CSR")
        response = HttpResponse(authority.csr_pem, content_type="application/pkcs10")
        response["Content-Disposition"] = f'attachment; filename="{authority.name}.csr"'
        return response

    # --- actions -------------------------------------------------------------------------------------

    def _each(self, request, queryset, done: str, change) -> None:
        for authority in queryset:
            try:
                with transaction.atomic():
                    change(authority, admin_actor(request))
            except ValidationError as exc:
                self.message_user(request, f"{authority}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{authority}: {done}")

    def _state(self, request, queryset, state: str) -> None:
        self._each(request, queryset, state,
                   lambda authority, actor: ca_state_set(authority=authority, state=state, actor=actor))  # fmt: skip

    @admin.action(description="Disable (issue nothing for now)", permissions=["manage"])
    def disable(self, request, queryset):
        self._state(request, queryset, CaState.DISABLED)

    @admin.action(description="Enable", permissions=["manage"])
    def enable(self, request, queryset):
        self._state(request, queryset, CaState.ACTIVE)

    @admin.action(description="Retire (issue nothing again)", permissions=["manage"])
    def retire(self, request, queryset):
        self._state(request, queryset, CaState.RETIRED)

    @admin.action(description="Make the default CA", permissions=["manage"])
    def make_default(self, request, queryset):

        if queryset.count() != 1:
            self.message_user(request, "Choose one CA to make the default.", messages.ERROR)
            return
        self._each(request, queryset, "the default CA now",
                   lambda authority, actor: ca_default_set(authority=authority, actor=actor))  # fmt: skip
