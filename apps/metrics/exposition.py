"""Prometheus' text format (0.0.4), written directly: a scrape of 100,000 certificates is half a million
samples, which prometheus_client's objects would take seconds to build (bench/metrics.py measures both).
What is written here must parse with prometheus_client's own parser (tests/metrics)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def number(value: float | int | bool) -> str:
    if isinstance(value, bool | int):
        return str(int(value))
    return repr(float(value))  # 'inf' and 'nan' read back as +Inf and NaN in the parser: never given here


@dataclass
class Family:
    """One metric: its name (a counter's without ``_total``), type, help, label names, and its sample
    lines as written."""

    name: str
    kind: str  # gauge, counter, histogram
    help: str
    labels: Sequence[str]
    body: list[str | bytes] = field(default_factory=list)  # bytes: lines PostgreSQL wrote, UTF-8

    @property
    def sample_name(self) -> str:
        # A counter's samples are name_total; text format 0.0.4 names its family the same way.
        return self.name + "_total" if self.kind == "counter" else self.name

    def label_text(self, values: Sequence[str]) -> str:
        """``tenant="a",name="b"``: the values in label-name order, escaped."""
        return ",".join(f'{label}="{escape(value)}"' for label, value in zip(self.labels, values, strict=True))

    def add(self, values: Sequence[str], value: float | int, *, suffix: str = "", le: str = "") -> None:
        """A sample; ``le`` is a histogram bucket's bound, written as it is given ("0.5", "+Inf")."""
        bound = f',le="{le}"' if le else ""
        self.body.append(f"{self.sample_name}{suffix}{{{self.label_text(values)}{bound}}} {number(value)}")

    def lines(self) -> Iterable[str | bytes]:
        yield f"# HELP {self.sample_name} {escape(self.help)}"
        yield f"# TYPE {self.sample_name} {self.kind}"
        yield from self.body


def render(families: Iterable[Family]) -> list[bytes]:
    """The page, UTF-8, in pieces for HttpResponse to join once (50 MB for 100,000 certificates: every
    copy counts)."""
    pieces = []
    for family in families:
        for line in family.lines():
            pieces += (line if isinstance(line, bytes) else line.encode(), b"\n")
    return pieces
