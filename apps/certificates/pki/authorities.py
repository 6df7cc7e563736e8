"""STAND-IN for branch ca-lifecycle's module of the same name (RULES.md, "Contract"): only what the
pki-api branch needs to import. On merge, take ca-lifecycle's file whole and drop this one.

``ca_resolve`` works (the API's lookups need it now); the lifecycle services refuse with a 400 until
the real ones land."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.certificates.pki.models import CertificateAuthority
from certmate.errors import NotFound

STAND_IN = True  # tests of import / external / state skip while this is set


def ca_resolve(value) -> CertificateAuthority:
    """The CA named ``value`` (its name, or its id); NotFound when this tenant has none."""
    text = str(value)[:100]
    found = CertificateAuthority.objects.filter(name=text).first()
    if found is None and text.isascii() and text.isdigit():
        found = CertificateAuthority.objects.filter(pk=int(text)).first()
    if found is None:
        raise NotFound(f"no CA {text!r}")
    return found


def _unavailable(*args, **kwargs):
    raise ValidationError("this build cannot do that yet (CA lifecycle not installed)", code="unavailable")


ca_import = ca_external_create = ca_external_upload = ca_state_set = ca_default_set = ca_default_ensure = _unavailable
