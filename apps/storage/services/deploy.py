"""CertMate's manual deploy, certmate's way: certmate runs no deploy hooks; what it "deploys" is the
certificate's current version, published again to the tenant's storage target (where web servers and
deploy scripts pick it up)."""

from __future__ import annotations

from django.db import transaction

from apps.certificates.models import Certificate, CertificateVersion
from apps.certificates.services.auditing import certificate_audit
from apps.certificates.services.requests import CertificateRequestError
from apps.storage.models import Publication
from apps.storage.services.config import storage_target_name
from apps.storage.services.publishing import publication_republish
from certmate.actors import Actor


@transaction.atomic
def certificate_deploy(*, certificate: Certificate, actor: Actor) -> Publication:
    """Queue the current version of ``certificate`` for its storage target again, published or not
    (the caller may then publish it at once with publication_publish); records ``certificate.deployed``."""
    version = CertificateVersion.objects.filter(pk=certificate.current_version_id).first()
    if version is None:
        raise CertificateRequestError(f"{certificate.identifier} has no version issued yet", code="no_version")
    publication = publication_republish(version=version)
    target = storage_target_name(publication.target)
    changes = {"version": version.number, "target": target}
    certificate_audit(actor=actor, action="certificate.deployed", certificate=certificate, changes=changes)
    return publication
