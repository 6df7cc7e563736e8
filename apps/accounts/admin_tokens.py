"""API tokens in the tenant's admin: created, listed and revoked through services.tokens. A new token's
text is shown once, on the page that answers the form (never stored, never in a message); the hash is
never shown. Tokens are not edited or deleted: revoking keeps the row as the record."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from apps.accounts.models import ApiToken, User
from apps.accounts.scopes import MAX_SCOPE_ENTRIES, allowed_domains_clean
from apps.accounts.services.tokens import token_create, token_revoke
from apps.accounts.sites import tenant_admin_site
from certmate.admin_services import ServiceAdmin, ServiceForm, admin_actor

ADD_FIELDS = ("user", "role", "name", "expires_at", "allowed_domains")
SHOWN_FIELDS = (
    "prefix", "name", "user", "role", "allowed_domains", "created_by", "created_at", "expires_at", "last_used_at",
    "revoked_at",
)  # fmt: skip


class ApiTokenAddForm(ServiceForm):
    class Meta:
        model = ApiToken
        fields = ADD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True)
        self.fields["expires_at"].help_text = "Empty: it never expires (a token lives ten years at most)."
        self.fields["allowed_domains"] = forms.CharField(
            label="Limited to certificates",
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=f"Names (api.example.com) and patterns (*.example.com), separated by commas or lines, at most "
            f"{MAX_SCOPE_ENTRIES}: the token then sees and acts on those certificates only, and on nothing else "
            "(CertMate's allowed_domains). Empty: all its role allows.",
        )

    def clean_allowed_domains(self) -> list[str]:
        text = self.cleaned_data.get("allowed_domains") or ""
        if len(text) > MAX_SCOPE_ENTRIES * 260:
            raise ValidationError(f"at most {MAX_SCOPE_ENTRIES} names", code="invalid_scope")
        try:
            return allowed_domains_clean(text.replace(",", "\n").splitlines())
        except ValidationError as exc:
            raise ValidationError(exc.messages, code="invalid_scope") from None

    def apply(self, actor):
        token, raw = token_create(actor=actor, **{field: self.cleaned_data[field] for field in ADD_FIELDS})
        token.raw_token = raw  # for the one page that shows it
        return token


@admin.register(ApiToken, site=tenant_admin_site)
class ApiTokenAdmin(ServiceAdmin):
    add_form = ApiTokenAddForm
    list_display = SHOWN_FIELDS
    list_filter = ("role",)
    search_fields = ("prefix", "name", "user__email")
    list_select_related = ("user", "created_by")
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ADD_FIELDS if obj is None else SHOWN_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else SHOWN_FIELDS

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    def response_add(self, request, obj, post_url_continue=None):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "token": obj, "title": "API token"}
        # Not a redirect: the text is on this one answer (never_cache, like every admin view), nowhere else.
        return TemplateResponse(request, "admin/accounts/apitoken/created.html", context)

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        actor = admin_actor(request)
        for token in queryset:
            token_revoke(token=token, actor=actor)
        self.message_user(request, f"revoked {queryset.count()} token(s)", messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        # Viewable, not editable; the revoke action is what changes a token.
        return False
