"""Storage follows certificate events: a version that becomes current is published, a revoked one is
published again (its metadata says so), a deleted certificate's material is withdrawn. Each handler
runs in the transaction that records its delivery and sends the slow part to the storage target
after commit, with its own retries."""

from __future__ import annotations

from apps.certificates.events import consumer_register, sweep_hook_register
from apps.certificates.models import Certificate, CertificateEvent, EventKind
from apps.storage.services.publishing import (
    publication_republish,
    publication_request,
    publication_withdraw,
    publications_retry_due,
)

CONSUMER = "storage"


def _publish(event: CertificateEvent) -> None:
    if event.version is not None:  # deleted since: nothing to publish
        publication_request(version=event.version)


def _republish(event: CertificateEvent) -> None:
    # Only the current version is on the target; an older one revoked changes nothing there.
    current = Certificate.objects.filter(pk=event.certificate_id).values_list("current_version_id", flat=True)
    if event.version_id is not None and current.first() == event.version_id:
        publication_republish(version=event.version)


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
