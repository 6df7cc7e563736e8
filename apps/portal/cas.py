"""Private CAs and their profiles. Everyone reads (never a private key); admins create a hierarchy,
disable / enable / retire a CA, make it the default, and add, change or delete profiles, through the
admin's forms (pki/admin_forms.py, pki/admin_profiles.py) and the pki services the API calls."""

from __future__ import annotations

from urllib.parse import quote

from django.urls import reverse

from apps.accounts.models import Role
from apps.certificates.pki.admin_forms import HierarchyForm
from apps.certificates.pki.admin_profiles import ProfileForm
from apps.certificates.pki.authorities import ca_default_set, ca_state_set
from apps.certificates.pki.ca_selectors import ca_list, profile_list
from apps.certificates.pki.models import CaState, CertificateAuthority, CertificateProfile
from apps.certificates.pki.profile_services import profile_delete
from apps.certificates.pki.public_urls import CA_CERTIFICATE_PATH, CRL_PATH
from apps.portal.base import PortalView
from apps.portal.editing import ActionPage, DeletePage, ServiceFormPage, found
from certmate.errors import NotFound

# What each state button sets (as POST /api/cas/{ca}/<action>), and what the page says it did.
STATE_ACTIONS = {
    "disable": (CaState.DISABLED, "disabled: it issues nothing until enabled"),
    "enable": (CaState.ACTIVE, "enabled"),
    "retire": (CaState.RETIRED, "retired: it issues nothing again; what it issued stays valid"),
}


def public_links(authority: CertificateAuthority) -> dict[str, str]:
    """The CA's public certificate and CRL, on this host (relative: the page never names another host)."""
    name = quote(authority.name, safe="")
    ca_der, crl_der = CA_CERTIFICATE_PATH.format(ca=name), CRL_PATH.format(ca=name)
    return {"ca_der": ca_der, "ca_pem": ca_der[:-3] + "pem", "crl_der": crl_der, "crl_pem": crl_der[:-3] + "pem"}


def ca_url(pk) -> str:
    return reverse("portal:ca", args=[pk])


def authority_of(pk) -> CertificateAuthority:
    return found(ca_list(), pk, "CA")


class CaListView(PortalView):
    title = "Private CAs"
    nav = "cas"
    template_name = "portal/admin/cas.html"
    write_role = Role.ADMIN

    def get_context_data(self, **kwargs):
        return super().get_context_data(authorities=ca_list(), **kwargs)


class CaDetailView(PortalView):
    nav = "cas"
    template_name = "portal/admin/ca.html"
    write_role = Role.ADMIN

    @property
    def title(self):
        return f"CA {self.authority.name}"

    def get(self, request, *args, **kwargs):
        self.authority = authority_of(kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        authority = self.authority
        return super().get_context_data(
            authority=authority,
            profiles=profile_list(authority=authority),
            links=public_links(authority) if authority.certificate_pem else None,
            state_actions=[action for action in STATE_ACTIONS if self._offered(authority, action)],
            **kwargs,
        )

    @staticmethod
    def _offered(authority: CertificateAuthority, action: str) -> bool:
        state = STATE_ACTIONS[action][0]
        if authority.state == CaState.RETIRED or authority.state == state:
            return False
        return authority.state != CaState.PENDING or state == CaState.RETIRED


class CaCreateView(ServiceFormPage):
    title = "Create a CA hierarchy"
    nav = "cas"
    form_class = HierarchyForm
    code_fields = {"name_taken": "name"}
    back_url_name = "portal:cas"
    submit_label = "Create"
    done_message = "Created the hierarchy: {object} (an intermediate under its root {object.parent})."

    def done_url(self, saved):
        return ca_url(saved.pk)


class CaActionView(ActionPage):
    """POST /cas/<pk>/<action>/: disable, enable, retire, default."""

    def back_url(self) -> str:
        return ca_url(self.kwargs["pk"])

    def act(self) -> str:
        authority = authority_of(self.kwargs["pk"])
        action = self.kwargs["action"]
        if action not in (*STATE_ACTIONS, "default"):
            raise NotFound(f"no CA action {action[:40]!r}")
        if action == "default":
            ca_default_set(authority=authority, actor=self.actor)
            return f"CA {authority.name} is the default CA now."
        state, said = STATE_ACTIONS[action]
        ca_state_set(authority=authority, state=state, actor=self.actor)
        return f"CA {authority.name} {said}."


# -- profiles ------------------------------------------------------------------------------------------


class PortalProfileForm(ProfileForm):
    """The admin's profile form under one CA: the CA comes from the URL; a profile's name is fixed once
    made (certificates and renewals find it by name)."""

    authority: CertificateAuthority | None = None  # set by the page

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("authority", None)
        if self.instance.pk:
            self.fields.pop("name", None)

    def clean(self):
        cleaned = super().clean()
        cleaned["authority"] = self.authority
        return cleaned


class ProfilePage(ServiceFormPage):
    nav = "cas"
    delete_url_name = "portal:profile-delete"

    @property
    def authority(self) -> CertificateAuthority:
        if not hasattr(self, "_authority"):
            self._authority = authority_of(self.kwargs["pk"])
        return self._authority

    def back_url(self) -> str:
        return ca_url(self.authority.pk)

    def back_args(self) -> tuple:
        return (self.authority.pk,)

    def get_instance(self):
        if "profile" not in self.kwargs:
            return None
        return found(profile_list(authority=self.authority), self.kwargs["profile"], "profile")

    form_class = PortalProfileForm
    code_fields = {"name_taken": "name"}

    def get_form_class(self):
        form_class = super().get_form_class()
        form_class.authority = self.authority
        return form_class

    @property
    def title(self):
        if self.instance is not None:
            return f"Profile {self.instance.name} of CA {self.authority.name}"
        return f"Add a profile to CA {self.authority.name}"


class ProfileDeleteView(DeletePage):
    title = "Delete a profile"
    nav = "cas"
    what = "profile"
    consequence = "A profile that certificates use is not deleted (their renewals follow it)."

    def get_object(self) -> CertificateProfile:
        authority = authority_of(self.kwargs["pk"])
        return found(profile_list(authority=authority), self.kwargs["profile"], "profile")

    def back_url(self) -> str:
        return ca_url(self.kwargs["pk"])

    def delete(self, obj):
        profile_delete(profile=obj, actor=self.actor)
