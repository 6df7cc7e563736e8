"""/certificates/: one table of the tenant's server and client certificates. The filter form is a GET
form (it works without JavaScript); with htmx, a change swaps the table alone and the URL follows.
Paging is LIMIT/OFFSET with one COUNT; the page reads a fixed number of queries whatever the number
of certificates. Bulk actions post the ticked rows to the bulk page (apps.portal.certificates.bulk)."""

from __future__ import annotations

from django.http import QueryDict

from apps.portal.base import PortalView
from apps.portal.certificates.bulk import BULK_ACTIONS, MAX_SELECTED
from apps.portal.certificates.filters import SORTS, CertificateFilterForm, page_of

SORT_LABELS = {"name": "Name", "kind": "Kind", "status": "Status", "expires": "Expires", "created": "Added"}


def query_without(query: QueryDict, *names: str) -> str:
    """The query string without ``names``, ready to take one more parameter (``…&`` or empty)."""
    kept = query.copy()
    for name in names:
        kept.pop(name, None)
    encoded = kept.urlencode()
    return f"{encoded}&" if encoded else ""


def sort_columns(query: QueryDict, current: str) -> list[dict]:
    """Each sortable column's link: ascending first, descending when it is the current ascending sort."""
    base = query_without(query, "sort", "page")
    columns = []
    for key in SORTS:
        descending = current == f"-{key}"
        ascending = current == key
        target = f"-{key}" if ascending else key
        direction = "ascending" if ascending else "descending" if descending else "none"
        columns.append({"key": key, "label": SORT_LABELS[key], "url": f"?{base}sort={target}", "aria_sort": direction})
    return columns


class CertificateListView(PortalView):
    title = "Certificates"
    nav = "certificates"
    template_name = "portal/certificates/list.html"
    partial_template_name = "portal/certificates/_table.html"

    def get_template_names(self) -> list[str]:
        if self.request.headers.get("HX-History-Restore-Request") == "true":
            return [self.template_name]  # htmx restoring history wants the whole page
        return super().get_template_names()

    def get_context_data(self, **kwargs):
        form = CertificateFilterForm(self.request.GET or None)
        page = page_of(form.narrowed(), self.request.GET.get("page"), form.page_size())
        columns = {column["key"]: column for column in sort_columns(self.request.GET, form.sort_key())}
        return super().get_context_data(
            form=form,
            page=page,
            columns=columns,
            page_query=query_without(self.request.GET, "page"),
            bulk_actions=BULK_ACTIONS,
            max_selected=MAX_SELECTED,
            filtered=form.is_filtered(),
            **kwargs,
        )
