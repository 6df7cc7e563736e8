"""Help: a quick start whose commands name this tenant's own host, and where the API is described."""

from __future__ import annotations

from django.urls import reverse

from apps.portal.base import PortalView


class HelpView(PortalView):
    title = "Help"
    nav = "help"
    template_name = "portal/help.html"

    def get_context_data(self, **kwargs):
        request = self.request
        return super().get_context_data(
            base_url=f"{request.scheme}://{request.get_host()}",
            api_docs_url=reverse("api-docs"),
            api_redoc_url=reverse("api-redoc"),
            api_schema_url=reverse("schema"),
            **kwargs,
        )
