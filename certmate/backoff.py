"""How long to wait before trying again: exponential backoff with jitter, bounded."""

from __future__ import annotations

import random


def backoff_seconds(attempt: int, *, base: float, cap: float, jitter: bool = True) -> float:
    """The wait before attempt ``attempt + 1`` (``attempt`` counts from 1): up to ``base * 2^(attempt-1)``,
    never more than ``cap``; with jitter, a random point in the upper half of that, so retries of many
    failures spread out while none comes back early."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    if not jitter:
        return ceiling
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - spreading load, not a secret
