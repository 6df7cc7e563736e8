"""Whether a version is live where the tenant's consumers pick it up: asked of the app that publishes
(apps.storage registers its answer from its ready()), so apps.certificates never imports it. Work that
must not run before a replacement is live (a bulk reissue revoking the old version) asks here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from apps.certificates.models import CertificateVersion


@dataclass(frozen=True)
class Publication:
    """``published``: the version, or a later one of its certificate, is on the tenant's storage target
    (since ``published_at``); otherwise ``waiting`` says what it waits for, in one line, and ``stalled``
    whether it waits for someone (publishing gave up: only a resync moves it) rather than for a retry."""

    published: bool
    published_at: datetime | None = None
    waiting: str = ""
    stalled: bool = False


_check: Callable[[CertificateVersion], Publication] | None = None


def publication_check_register(check: Callable[[CertificateVersion], Publication]) -> None:
    """Answer ``version_publication`` with ``check``; registering again replaces it."""
    global _check
    _check = check


def version_publication(version: CertificateVersion) -> Publication:
    """Where ``version`` stands on the tenant's storage target. Without a publishing app installed the
    database is the only place a version lives: stored is live."""
    if _check is None:
        return Publication(published=True, published_at=version.created_at)
    return _check(version)
