"""What an import did with every file and setting of the source: one entry each."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    IMPORTED = "imported"  # written into the tenant by this run
    UNCHANGED = "unchanged"  # already imported, the same as in the source
    SKIPPED = "skipped"  # deliberately not brought over (the reason says why)
    ATTENTION = "attention"  # not (fully) imported: someone has to act (the reason says what to do)


@dataclass(frozen=True)
class Entry:
    item: str  # a file path in the source, or a setting ("settings.json: dns_providers.cloudflare.accounts.x")
    outcome: Outcome
    reason: str = ""


@dataclass
class Report:
    source: str
    dry_run: bool = False
    entries: list[Entry] = field(default_factory=list)

    def add(self, item: str, outcome: Outcome, reason: str = "") -> None:
        self.entries.append(Entry(item=item, outcome=Outcome(outcome), reason=reason))

    def covered(self) -> set[str]:
        return {entry.item for entry in self.entries}

    def counts(self) -> dict[str, int]:
        counted = Counter(entry.outcome.value for entry in self.entries)
        return {outcome.value: counted.get(outcome.value, 0) for outcome in Outcome}

    def by_outcome(self, outcome: Outcome) -> list[Entry]:
        return [entry for entry in self.entries if entry.outcome == outcome]

    @property
    def changed(self) -> bool:
        return any(entry.outcome == Outcome.IMPORTED for entry in self.entries)

    def as_json(self) -> str:
        entries = [{**asdict(entry), "outcome": entry.outcome.value} for entry in self.entries]
        return json.dumps(
            {"source": self.source, "dry_run": self.dry_run, "counts": self.counts(), "entries": entries}, indent=2
        )

    def as_table(self, *, verbose: bool = True) -> str:
        """One line per entry (imported and unchanged ones only with ``verbose``), then the counts."""
        shown = [e for e in self.entries if verbose or e.outcome in (Outcome.SKIPPED, Outcome.ATTENTION)]
        width = max((len(e.item) for e in shown), default=4)
        width = min(width, 80)
        lines = [f"{e.outcome.value:<10} {e.item:<{width}} {e.reason}".rstrip() for e in shown]
        counts = ", ".join(f"{n} {outcome}" for outcome, n in self.counts().items())
        header = f"CertMate import from {self.source}" + (" (dry run: nothing written)" if self.dry_run else "")
        return "\n".join([header, *lines, counts])
