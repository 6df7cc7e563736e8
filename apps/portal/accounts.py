"""Accounts: the tenant's ACME CA accounts and DNS accounts. Everyone reads the list (as through the API);
admins add, change and delete, through the admin's forms (apps/certificates/acme/admin.py, admin_dns.py)
and so through the same services. Secrets (EAB HMAC keys, DNS credentials) are write-only: never rendered
back; left empty on a change, the stored value stays."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.accounts.models import Role
from apps.certificates.acme.accounts import ca_account_delete
from apps.certificates.acme.admin import CaAccountForm, RegisteredCaAccountForm
from apps.certificates.acme.admin_dns import DNS_ACCOUNT_FIELDS, EXTRA, DnsAccountForm, credential_field_name
from apps.certificates.acme.dns_accounts import dns_account_delete
from apps.certificates.acme.dns_test import dns_account_checkable, dns_account_test
from apps.certificates.acme.providers import PROVIDERS
from apps.certificates.models import CA_PRESETS, CaAccount, DnsAccount
from apps.portal.base import PortalView
from apps.portal.editing import ActionPage, DeletePage, ServiceFormPage, found

BACK = "portal:accounts"


class AccountsView(PortalView):
    title = "Accounts"
    nav = "accounts"
    template_name = "portal/admin/accounts.html"
    write_role = Role.ADMIN  # viewers and operators read; the write controls are for admins

    def get_context_data(self, **kwargs):
        presets = {url: label for label, url in CA_PRESETS.values()}
        ca_accounts = list(CaAccount.objects.order_by("name", "pk"))
        for account in ca_accounts:
            account.preset_label = presets.get(account.directory_url, "")
        dns_accounts = list(DnsAccount.objects.order_by("provider", "name", "pk"))
        for account in dns_accounts:
            account.stored_keys = sorted(account.credentials)  # their names only, never their values
        return super().get_context_data(
            ca_accounts=ca_accounts,
            dns_accounts=dns_accounts,
            providers={key: provider.label for key, provider in PROVIDERS.items()},
            **kwargs,
        )


# -- CA accounts ---------------------------------------------------------------------------------------


class PortalCaAccountForm(CaAccountForm):
    field_order = [
        "name", "preset", "directory_url", "email", "eab_kid", "eab_hmac_key", "trust_bundle", "is_default",
        "fallback_position",
    ]  # fmt: skip


class CaAccountPage(ServiceFormPage):
    nav = "accounts"
    back_url_name = BACK
    delete_url_name = "portal:ca-account-delete"
    code_fields = {"name_taken": "name", "eab_incomplete": "eab_hmac_key"}

    def get_instance(self):
        if "pk" not in self.kwargs:
            return None
        return found(CaAccount.objects.all(), self.kwargs["pk"], "CA account")

    def get_form_class(self):
        instance = self.instance
        # Once registered at its CA, an account's directory, e-mail and EAB are fixed (the admin's rule).
        self.form_class = RegisteredCaAccountForm if instance and instance.registered_at else PortalCaAccountForm
        return super().get_form_class()

    @property
    def title(self):
        instance = self.instance
        return f"CA account {instance.name}" if instance else "Add a CA account"


class CaAccountDeleteView(DeletePage):
    title = "Delete a CA account"
    nav = "accounts"
    what = "CA account"
    back_url_name = BACK
    consequence = "An account that certificates use is not deleted: move them to another account first."

    def get_object(self):
        return found(CaAccount.objects.all(), self.kwargs["pk"], "CA account")

    def delete(self, obj):
        ca_account_delete(account=obj, actor=self.actor)


# -- DNS accounts --------------------------------------------------------------------------------------


class DnsAccountPage(ServiceFormPage):
    nav = "accounts"
    back_url_name = BACK
    delete_url_name = "portal:dns-account-delete"
    template_name = "portal/admin/dns_account.html"
    form_class = DnsAccountForm
    code_fields = {"name_taken": "name"}

    def get_instance(self):
        if "pk" not in self.kwargs:
            return None
        return found(DnsAccount.objects.all(), self.kwargs["pk"], "DNS account")

    def get_initial(self):
        chosen = self.request.GET.get("provider", "")
        return {"provider": chosen} if chosen in PROVIDERS else {}

    @property
    def title(self):
        instance = self.instance
        return f"DNS account {instance.name} ({instance.provider})" if instance else "Add a DNS account"

    def get_context_data(self, **kwargs):
        form = kwargs.setdefault("form", self.get_form())
        groups = [
            (provider, [form[credential_field_name(provider, field)] for field in provider.fields])
            for provider in PROVIDERS.values()
        ]
        main = [form[name] for name in DNS_ACCOUNT_FIELDS]
        instance = self.instance
        return super().get_context_data(
            main_fields=main,
            extra_field=form[EXTRA],
            provider_groups=groups,
            stored_keys=sorted(instance.credentials) if instance else [],
            checkable=bool(instance and dns_account_checkable(instance.provider)),
            **kwargs,
        )


class DnsAccountTestView(ActionPage):
    """The "Test" button of a checkable DNS account: the result is the page's message, green or red."""

    atomic = False  # the nameserver answers meanwhile: the service records the outcome on its own

    back_url_name = "portal:dns-account"

    def back_args(self) -> tuple:
        return (self.kwargs["pk"],)

    def act(self) -> str:
        account = found(DnsAccount.objects.all(), self.kwargs["pk"], "DNS account")
        result = dns_account_test(account=account, actor=self.actor, zone=self.request.POST.get("zone", "")[:300])
        if not result.ok:
            raise ValidationError(f"The test failed: {result.message}")
        return f"The test passed: {result.message}"


class DnsAccountDeleteView(DeletePage):
    title = "Delete a DNS account"
    nav = "accounts"
    what = "DNS account"
    back_url_name = BACK
    consequence = "An account that certificates use is not deleted: move them to another account first."

    def get_object(self):
        return found(DnsAccount.objects.all(), self.kwargs["pk"], "DNS account")

    def delete(self, obj):
        dns_account_delete(account=obj, actor=self.actor)
