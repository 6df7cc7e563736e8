"""The state of one import run: the source, what was read from it, the report, and the rows that make
a second run a no-op (``ImportedObject``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from apps.certificates.models import TenantSettings
from apps.importing.models import ImportedObject
from apps.importing.report import Outcome, Report
from apps.importing.source import Source, SourceError
from certmate.actors import Actor


def content_hash(value: Any) -> str:
    """A keyed hash of what was read (it may hold secrets: unkeyed, a weak one could be guessed back)."""
    data = json.dumps(value, sort_keys=True, default=str).encode()
    return hmac.new(settings.SECRET_KEY.encode(), data, hashlib.sha256).hexdigest()


def problem_text(exc: Exception) -> str:
    """One line saying why (a ValidationError's messages, joined), never a secret's value."""
    messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    return "; ".join(str(m) for m in messages)[:500]


@dataclass
class Layout:
    """Where CertMate's parts are in the source (prefixes end with '/' or are empty)."""

    settings: str | None
    data: str
    certificates: str


@dataclass
class ImportRun:
    source: Source
    layout: Layout
    report: Report
    actor: Actor
    settings: dict[str, Any] = field(default_factory=dict)
    secret_key: str | None = None  # CertMate's SECRET_KEY, for its HMAC token hashes
    users_domain: str = ""  # for users CertMate knew by name only: <name>@<users_domain>
    known: dict[str, ImportedObject] = field(default_factory=dict)
    preloaded: dict[str, Any] = field(default_factory=dict)
    pending: list[ImportedObject] = field(default_factory=list)
    # CertMate's (provider, account id) -> certmate's account, filled as accounts are imported.
    dns_accounts: dict[tuple[str, str], Any] = field(default_factory=dict)
    ca_accounts: dict[tuple[str, str], Any] = field(default_factory=dict)
    authority: Any = None  # the private CA imported from CertMate's data/certs/ca
    users: dict[str, Any] = field(default_factory=dict)  # CertMate user name -> certmate user

    def load_known(self) -> None:
        self.known = {row.source_key: row for row in ImportedObject.objects.all()}

    def same_as_before(self, key: str, digest: str) -> bool:
        row = self.known.get(key)
        return row is not None and row.content_hash == digest

    def target_of(self, key: str, model: type[models.Model]) -> Any:
        """The object an earlier run made for ``key``, if it is still there."""
        if key in self.preloaded:
            return self.preloaded[key]
        pk = self._target_pk(key, model)
        return None if pk is None else model.objects.filter(pk=pk).first()

    def _target_pk(self, key: str, model: type[models.Model]) -> str | None:
        row = self.known.get(key)
        if row is None or not row.target.startswith(f"{model._meta.label_lower}:"):
            return None
        return row.target.rsplit(":", 1)[1]

    def flush(self) -> None:
        ImportedObject.objects.bulk_create(self.pending, batch_size=1000)
        self.pending.clear()

    @cached_property
    def renewal_threshold_days(self) -> int:
        """The tenant's threshold, read once the tenant's defaults are imported."""
        return TenantSettings.load().renewal_threshold_days

    def preload(self, keys: list[str], queryset: models.QuerySet) -> None:
        """Look up the targets of many keys in one query (what ``target_of`` then answers from)."""
        pks = {key: pk for key in keys if (pk := self._target_pk(key, queryset.model)) is not None}
        found = queryset.in_bulk([int(pk) for pk in pks.values()])
        self.preloaded.update({key: found.get(int(pk)) for key, pk in pks.items()})

    def remember(self, key: str, kind: str, digest: str, target: models.Model | None) -> None:
        label = f"{target._meta.label_lower}:{target.pk}" if target is not None else ""
        row = self.known.get(key)
        if row is None:
            # Written with the others in one statement (``flush``): the import is one transaction anyway.
            row = ImportedObject(source_key=key, kind=kind, content_hash=digest, target=label)
            self.pending.append(row)
        elif row.pk is None:
            row.kind, row.content_hash, row.target = kind, digest, label
        else:
            row.kind, row.content_hash, row.target = kind, digest, label
            row.save(update_fields=["kind", "content_hash", "target", "updated_at"])
        self.known[key] = row

    def each(self, item: str, work: Callable[[], tuple[Outcome, str]]) -> bool:
        """Run ``work`` for ``item`` in its own savepoint: its refusal (a ValidationError, an unreadable
        file) rolls back that object only and is reported as needing attention; the rest goes on."""
        try:
            with transaction.atomic():
                outcome, reason = work()
        except (ValidationError, ValueError, SourceError) as exc:
            self.report.add(item, Outcome.ATTENTION, problem_text(exc))
            return False
        self.report.add(item, outcome, reason)
        return outcome in (Outcome.IMPORTED, Outcome.UNCHANGED)

    def read_text(self, path: str) -> str:
        return self.source.read(path).decode("utf-8", errors="replace")
