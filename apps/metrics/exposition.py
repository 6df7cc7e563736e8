"""Prometheus' text format (0.0.4), written directly: a scrape of 100,000 certificates is half a million
samples, which prometheus_client's objects would take seconds to build (bench/metrics.py measures both).
What is written here must parse with prometheus_client's own parser (tests/metrics)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_NEEDS_ESCAPING = ("\\", '"', "\n")


def escape(value: str) -> str:
    if not any(character in value for character in _NEEDS_ESCAPING):
        return value
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float | int | bool) -> str:
    if isinstance(value, bool | int):
        return str(int(value))
    return repr(float(value))  # 'inf' and 'nan' read back as +Inf and NaN in the parser: never given here


@dataclass
class Family:
    """One metric: its name (a counter's without ``_total``), type, help and label names; samples are
    (label values, value) in label-name order, optionally with a suffix (``_bucket``, ``_sum``, ...)."""

    name: str
    kind: str  # gauge, counter, histogram
    help: str
    labels: Sequence[str]
    samples: list[tuple[str, Sequence[str], float | int, str]] = field(default_factory=list)

    def add(self, values: Sequence[str], value: float | int, *, suffix: str = "", le: str = "") -> None:
        """A sample; ``le`` is a histogram bucket's bound, written as it is given ("0.5", "+Inf")."""
        self.samples.append((suffix, values, value, f',le="{le}"' if le else ""))

    def lines(self) -> Iterable[str]:
        # A counter's samples are name_total; text format 0.0.4 names its family the same way.
        base = self.name + "_total" if self.kind == "counter" else self.name
        yield f"# HELP {base} {escape(self.help)}"
        yield f"# TYPE {base} {self.kind}"
        names = [f'{label}="' for label in self.labels]
        for suffix, values, value, le in self.samples:
            pairs = ",".join(f'{name}{escape(v)}"' for name, v in zip(names, values, strict=True))
            yield f"{base}{suffix}{{{pairs}{le}}} {number(value)}"


def render(families: Iterable[Family]) -> str:
    return "\n".join(line for family in families for line in family.lines()) + "\n"
