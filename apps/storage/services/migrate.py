"""Moving a tenant's published material to another target: copy, check every item arrived, and only
then switch. A failure leaves the tenant on its old target, untouched."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.certificates.models import Certificate
from apps.storage.backends.base import StorageError
from apps.storage.bundles import version_bundle
from apps.storage.models import Publication, PublicationState, StorageConfig
from apps.storage.services.config import (
    AUDIT_TYPE,
    same_place,
    storage_backend,
    storage_config_active,
    storage_config_changes,
    storage_config_check,
    storage_config_validate,
)
from apps.storage.services.publishing import publications_request_all
from certmate.actors import Actor
from certmate.audit.services import audit_record


@dataclass
class MigrationReport:
    source: str
    target: str
    copied: int = 0
    verified: int = 0
    removed_from_source: int = 0
    failures: list[str] = field(default_factory=list)
    switched: bool = False


def storage_migrate(
    *,
    actor: Actor,
    backend: str,
    settings: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | None = None,
    remove_old: bool = False,
    progress: Callable[[str], None] | None = None,
) -> MigrationReport:
    """Copy every current version to the new target, read each back, and only then switch to it (one
    storage.migrated event, with the counts). ``remove_old`` then deletes what was moved from the old one."""
    settings, credentials = dict(settings or {}), dict(credentials or {})
    settings = storage_config_validate(backend=backend, settings=settings, credentials=credentials)
    source_config = storage_config_active()
    target_config = StorageConfig(backend=backend, settings=settings, credentials=credentials)
    if same_place(source_config, target_config):
        # Moving onto itself would copy nothing, and --remove-old would then delete it all.
        raise ValidationError(f"the tenant already publishes to {source_config}: nothing to move", code="same_target")
    storage_config_check(target_config)  # StorageError: nothing was written anywhere
    source, target = storage_backend(source_config), storage_backend(target_config)
    report = MigrationReport(source=source.describe(), target=target.describe())
    say = progress or (lambda _line: None)

    certificates = list(
        Certificate.objects.filter(current_version__isnull=False).select_related(
            "current_version", "ca_account", "dns_account"
        )
    )
    bundles = {}
    for certificate in certificates:
        version = certificate.current_version
        version.certificate = certificate
        bundle = version_bundle(version)
        try:
            target.store(bundle)
            report.copied += 1
            bundles[version.pk] = bundle
            say(f"copied {bundle.kind}/{bundle.identifier} v{bundle.version}")
        except StorageError as exc:
            report.failures.append(f"{bundle.kind}/{bundle.identifier}: {exc.reason}")
    # Check what arrived by reading it back, not by trusting the writes.
    for version_id, bundle in list(bundles.items()):
        try:
            arrived = target.read(bundle.kind, bundle.identifier)
        except StorageError as exc:
            arrived, reason = None, exc.reason
        else:
            reason = "read back different from what was written" if arrived is not None else "not found"
        if arrived == bundle:
            report.verified += 1
        else:
            report.failures.append(f"{bundle.kind}/{bundle.identifier}: {reason}")
            del bundles[version_id]
    if report.failures:
        say(f"{len(report.failures)} item(s) did not arrive: staying on {report.source}")
        return report

    with transaction.atomic():
        previous = StorageConfig.objects.select_for_update().filter(is_active=True).first()
        StorageConfig.objects.filter(is_active=True).update(is_active=False)
        target_config.is_active = True
        target_config.last_test_at = timezone.now()
        target_config.save()
        now = timezone.now()
        Publication.objects.bulk_create(
            [
                Publication(
                    version_id=version_id, target=target_config, state=PublicationState.PUBLISHED, published_at=now
                )
                for version_id in bundles
            ]
        )
        changes = storage_config_changes(previous, target_config)
        audit_record(
            actor=actor,
            action="storage.migrated",
            target=target_config,
            object_type=AUDIT_TYPE,
            object_name=report.target,
            changes={
                **changes,
                "target": [report.source, report.target],
                "copied": report.copied,
                "verified": report.verified,
            },
        )
    # Versions issued while copying went to the old target: queue them for the new one, once the
    # switch is visible to everyone.
    publications_request_all(target=target_config)
    report.switched = True
    say(f"switched to {report.target}")
    if remove_old:
        for bundle in bundles.values():
            try:
                source.delete(bundle.kind, bundle.identifier)
                report.removed_from_source += 1
            except StorageError as exc:
                report.failures.append(f"{bundle.kind}/{bundle.identifier} left on {report.source}: {exc.reason}")
        # Whatever the old target was, the new one must still hold everything.
        for bundle in bundles.values():
            if target.read(bundle.kind, bundle.identifier) != bundle:
                target.store(bundle)
                report.failures.append(f"{bundle.kind}/{bundle.identifier} was missing after the removal: stored again")
    return report
