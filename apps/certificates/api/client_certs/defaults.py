"""The tenant's default issuing CA and its ``client`` profile; a tenant with no default CA gets a
hierarchy named "default" on first use, as CertMate makes its own CA.

TEMPORARY (integrator): branch ca-lifecycle provides ``ca_default_ensure(actor=...)`` in
apps.certificates.pki.authorities; once merged, ``default_ca`` becomes a call to it and this file keeps
``client_profile`` only."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.certificates.models import CertificateAuthority, CertificateProfile
from apps.certificates.pki.services import ca_hierarchy_create
from certmate.actors import Actor
from certmate.audit.services import audit_record

DEFAULT_CA_NAME = "default"
CLIENT_PROFILE = "client"


def default_ca(*, actor: Actor) -> CertificateAuthority:
    """The default CA; made (a hierarchy "default", its intermediate the default) when there is none."""
    found = CertificateAuthority.objects.filter(is_default=True).first()
    if found is not None:
        return found
    try:
        _, made = ca_hierarchy_create(
            name=DEFAULT_CA_NAME, common_name="CertMate Default CA", organization="CertMate", actor=actor
        )
    except ValidationError:
        made = CertificateAuthority.objects.filter(name=DEFAULT_CA_NAME).first()  # a concurrent request's
        if made is None:
            raise
    try:
        with transaction.atomic():
            if not CertificateAuthority.objects.filter(is_default=True).exists():
                CertificateAuthority.objects.filter(pk=made.pk).update(is_default=True)
                audit_record(actor=actor, action="certificate_authority.default_set", target=made,
                             changes={"is_default": [False, True]})  # fmt: skip
    except IntegrityError:
        pass  # another request made its CA the default first: that one it is
    return CertificateAuthority.objects.get(is_default=True)


def client_profile(authority: CertificateAuthority) -> CertificateProfile:
    profile = CertificateProfile.objects.select_related("authority").filter(authority=authority, name=CLIENT_PROFILE)
    found = profile.first()
    if found is None:
        raise ValidationError(
            f"the default CA {authority.name!r} has no profile {CLIENT_PROFILE!r}: a tenant admin creates one",
            code="profile_missing",
        )
    return found
