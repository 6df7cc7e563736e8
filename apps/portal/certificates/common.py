"""What every page about one certificate shares: finding it in this tenant (a 404 otherwise: another
tenant's id is simply not in this schema), and reading its chain for display."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property

from apps.accounts.models import Role
from apps.certificates.models import Certificate, CertificateVersion
from apps.certificates.parsing import CertificateFacts, certificate_facts
from apps.certificates.selectors import certificate_list
from apps.portal.base import PortalView
from apps.portal.certificates.files import said
from certmate.errors import NotFound

MAX_ID = 2**63  # a bigint: a larger number in the URL is simply not found (never a database error)
_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def certificate_of(pk: int) -> Certificate:
    """The certificate numbered ``pk`` here, read as the list reads it; NotFound otherwise."""
    found = certificate_list().filter(pk=pk).first() if 0 < pk < MAX_ID else None
    if found is None:
        raise NotFound(f"no certificate {pk} here")
    return found


def chain_of(version: CertificateVersion | None) -> list[CertificateFacts]:
    """The issuers a version was served with (nearest first), parsed; a block that does not parse is
    left out rather than failing the page."""
    facts = []
    for block in _PEM_BLOCK.findall(version.chain_pem if version else ""):
        try:
            facts.append(certificate_facts(block))
        except ValueError:
            continue
    return facts


class CertificatePageMixin:
    """For views under /certificates/<pk>/: ``self.certificate``, a redirect back to its page and a
    message in a service's words."""

    @cached_property
    def certificate(self) -> Certificate:
        return certificate_of(self.kwargs["pk"])

    def back(self, name: str = "portal:certificate") -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse(name, args=[self.certificate.pk]))

    def refused(self, exc: ValidationError | NotFound) -> None:
        messages.error(self.request, f"{self.certificate.identifier}: {said(exc)}")

    def get_context_data(self, **kwargs):
        return super().get_context_data(certificate=self.certificate, **kwargs)


class CertificateFormPage(CertificatePageMixin, PortalView):
    """A page of its own for one write on a certificate (revoke, delete, a key download): operators
    only, even to look at it; its title names the certificate."""

    nav = "certificates"
    read_role = Role.OPERATOR
    title_format = "{}"

    @property
    def title(self) -> str:
        return self.title_format.format(self.certificate.identifier)
