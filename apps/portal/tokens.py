"""API tokens (admins, as /api/tokens): the list (prefixes only; a token's hash is never shown), a new
token whose text is shown once, on the page that answers the form, and revoking. Through
services.tokens via the admin's form."""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers

from apps.accounts.admin_tokens import ApiTokenAddForm
from apps.accounts.models import ApiToken, Role
from apps.accounts.services.tokens import token_revoke
from apps.portal.editing import ActionPage, ServiceFormPage, found


class TokensView(ServiceFormPage):
    title = "API tokens"
    nav = "tokens"
    template_name = "portal/admin/tokens.html"
    form_class = ApiTokenAddForm
    back_url_name = "portal:tokens"
    submit_label = "Create the token"
    read_role = write_role = Role.ADMIN
    code_fields = {
        "role_above_user": "role",
        "user_inactive": "user",
        "delegation_refused": "user",
        "expired": "expires_at",
        "expires_too_late": "expires_at",
    }

    def get_initial(self):
        return {"user": self.request.user.pk, "role": self.request.user.role}

    def get_context_data(self, **kwargs):
        tokens = ApiToken.objects.select_related("user", "created_by").order_by("-created_at", "-pk")
        return super().get_context_data(tokens=tokens, **kwargs)

    def form_valid(self, form):
        # Not a redirect: the token's text is on this one answer, never stored, never in a message.
        response = self.render_to_response(
            self.get_context_data(form=self.get_form_class()(initial=self.get_initial()), created=form.instance)
        )
        add_never_cache_headers(response)
        return response


class TokenRevokeView(ActionPage):
    back_url_name = "portal:tokens"

    def act(self) -> str:
        token = found(ApiToken.objects.all(), self.kwargs["pk"], "API token")
        token_revoke(token=token, actor=self.actor)
        return f"Revoked the token {token.prefix}… ({token.name or 'no name'}): it no longer works."
