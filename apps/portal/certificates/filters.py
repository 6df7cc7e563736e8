"""The certificate list's query string: search, filters, sorting and paging, each value checked and
bounded (a hostile query string is a form error, never a 500), applied to certificate_list()."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.db.models import F, QuerySet

from apps.certificates.models import CaAccount, Certificate, CertificateAuthority, CertificateKind, DnsAccount
from apps.certificates.overview import LISTED_STATES, certificates_ending, certificates_in_state
from apps.certificates.selectors import certificate_list

PAGE_SIZES = (25, 50, 100)
MAX_PAGE = 100_000
MAX_SEARCH = 253
MAX_DAYS = 3650
# Sort keys the list offers: the column each orders by (a stable order: the pk breaks ties).
SORTS = {
    "name": "identifier",
    "kind": "kind",
    "status": "status",
    "expires": "current_version__not_after",
    "created": "created_at",
}
DEFAULT_SORT = "name"
FILTERS = ("q", "kind", "status", "issuer", "dns", "expiring", "auto_renew")
STATE_LABELS = {"needs_csr": "needs a new CSR"}


class CertificateFilterForm(forms.Form):
    """What the list shows; every field optional. ``issuer``: ``ca:<pk>`` (an ACME CA account) or
    ``pki:<pk>`` (a private CA)."""

    q = forms.CharField(label="Search", required=False, max_length=MAX_SEARCH,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "name or SAN"}))  # fmt: skip
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "any"), *CertificateKind.choices])
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "any"), *((s, STATE_LABELS.get(s, s)) for s in LISTED_STATES)]
    )
    issuer = forms.ChoiceField(label="Issuer", required=False)
    dns = forms.ChoiceField(label="DNS account", required=False)
    expiring = forms.IntegerField(label="Expiring within (days)", required=False, min_value=0, max_value=MAX_DAYS)
    auto_renew = forms.ChoiceField(label="Auto-renew", required=False, choices=[("", "any"), ("on", "on"),
                                                                                ("off", "off")])  # fmt: skip
    sort = forms.ChoiceField(required=False, widget=forms.HiddenInput,
                             choices=[(p + k, p + k) for k in SORTS for p in ("", "-")])  # fmt: skip
    per_page = forms.TypedChoiceField(label="Per page", required=False, coerce=int, empty_value=50,
                                      choices=[(n, n) for n in PAGE_SIZES])  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cas = CaAccount.objects.order_by("name").values_list("pk", "name")
        authorities = CertificateAuthority.objects.order_by("name").values_list("pk", "name")
        self.fields["issuer"].choices = [
            ("", "any"),
            ("ACME CA accounts", [(f"ca:{pk}", name) for pk, name in cas]),
            ("Private CAs", [(f"pki:{pk}", name) for pk, name in authorities]),
        ]
        dns = DnsAccount.objects.order_by("name").values_list("pk", "name")
        self.fields["dns"].choices = [("", "any"), *((str(pk), name) for pk, name in dns)]

    def narrowed(self) -> QuerySet[Certificate]:
        """certificate_list() narrowed and ordered as asked; everything when the form is invalid."""
        data = self.cleaned_data if self.is_valid() else {}
        rows = certificate_list(kind=data.get("kind") or None, search=data.get("q") or None)
        if data.get("status"):
            rows = certificates_in_state(rows, data["status"])
        if data.get("expiring") is not None:
            rows = certificates_ending(rows, within_days=data["expiring"])
        issuer = data.get("issuer") or ""
        if issuer.startswith("ca:"):
            rows = rows.filter(ca_account_id=int(issuer[3:]), authority__isnull=True)
        elif issuer.startswith("pki:"):
            rows = rows.filter(authority_id=int(issuer[4:]))
        if data.get("dns"):
            rows = rows.filter(dns_account_id=int(data["dns"]))
        if data.get("auto_renew"):
            rows = rows.filter(auto_renew=data["auto_renew"] == "on")
        return rows.order_by(*self.ordering())

    def ordering(self) -> list:
        sort = self.sort_key()
        column = SORTS[sort.lstrip("-")]
        descending = sort.startswith("-")
        first = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
        return [first, "-pk" if descending else "pk"]

    def sort_key(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else "") or DEFAULT_SORT

    def is_filtered(self) -> bool:
        """Whether anything narrows the list (sorting and page size do not)."""
        data = self.cleaned_data if self.is_valid() else {}
        return any(data.get(name) not in (None, "") for name in FILTERS)

    def page_size(self) -> int:
        return (self.cleaned_data.get("per_page") if self.is_valid() else None) or 50


def page_of(rows: QuerySet[Certificate], number: str | None, per_page: int):
    """One page of ``rows``: one COUNT, the page's ids (LIMIT/OFFSET over the narrow rows the order
    needs, not the wide joined ones), then those rows with what the list shows. A page number out of
    range is the last page."""
    paginator = Paginator(rows.values_list("pk", flat=True), per_page)
    try:
        wanted = min(max(int(number or 1), 1), MAX_PAGE)
    except (TypeError, ValueError):
        wanted = 1
    page = paginator.get_page(wanted)
    ids = list(page.object_list)
    found = certificate_list().order_by().in_bulk(ids)  # the filters chose them already
    page.object_list = [found[pk] for pk in ids if pk in found]
    return page
