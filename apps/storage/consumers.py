"""Storage follows certificate events: a version that becomes current is published, a revoked one is
published again (its metadata says so), a deleted certificate's material is withdrawn. Each handler
runs in the transaction that records its delivery and sends the slow part to the storage target
after commit, with its own retries."""

from __future__ import annotations

from apps.certificates.events import consumer_register, sweep_hook_register
from apps.certificates.models import Certificate, CertificateEvent, CertificateVersion, EventKind
from apps.certificates.publication import publication_check_register
from apps.storage.selectors import version_live
from apps.storage.services.publishing import (
    publication_republish,
    publication_request,
    publication_withdraw,
    publications_retry_due,
)

CONSUMER = "storage"


def _version_held(event: CertificateEvent) -> tuple[CertificateVersion | None, int | None]:
    """The event's version if it still exists, and its certificate's current version id, with the
    certificate row locked until this delivery commits. A deletion of the certificate (which locks that
    row first) either waits for this delivery, and takes its publication along, or is seen by it: never
    a publication inserted for a version being deleted meanwhile."""
    if event.certificate_id is None or event.version_id is None:
        return None, None
    current = (
        Certificate.objects.select_for_update(no_key=True)
        .filter(pk=event.certificate_id)
        .values_list("current_version_id", flat=True)
        .first()
    )
    version = CertificateVersion.objects.filter(pk=event.version_id).first()
    return version, current


def _publish(event: CertificateEvent) -> None:
    version, _ = _version_held(event)
    if version is not None:  # deleted since: nothing to publish
        publication_request(version=version)


def _republish(event: CertificateEvent) -> None:
    # Only the current version is on the target; an older one revoked changes nothing there.
    version, current = _version_held(event)
    if version is not None and current == version.pk:
        publication_republish(version=version)


def _withdraw(event: CertificateEvent) -> None:
    publication_withdraw(kind=event.certificate_kind, identifier=event.identifier)


HANDLERS = {
    EventKind.ISSUED: _publish,
    EventKind.RENEWED: _publish,
    EventKind.REVOKED: _republish,
    EventKind.DELETED: _withdraw,
}


def storage_event_handle(event: CertificateEvent) -> None:
    HANDLERS[event.kind](event)


def register() -> None:
    """Called from the storage app's ready()."""
    consumer_register(CONSUMER, kinds=HANDLERS, handler=storage_event_handle)
    sweep_hook_register("storage: lost publishes", publications_retry_due)
    publication_check_register(version_live)
