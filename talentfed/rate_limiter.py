"""Counting hits against limits in fixed windows, much as Mastodon does (rack-attack).

A `Rule` allows `limit` hits per `period` seconds for each key (a token's digest, an address).
A key's window starts at its first hit and lasts `period`; then it starts over at the next hit.
A window costs one start time and one count per key. A client may spend one window's allowance
at its end and the next one's at its start, up to twice the limit in a short time: the price of
one counter per key, and Mastodon's behaviour too (its windows are aligned to the clock instead,
which would make every client's allowance return at the same moment).

`Limiter` is what callers use. `MemoryLimiter` counts in this process: right for a node of one
process (SQLite allows no other, `storage/process_roles.py`). Several processes share counts in
the database or in Redis (`storage/rate_counters.py`); `web/rate_limits.counter_for` chooses.

No web, no database: pure, so any layer may use it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    period: float  # seconds


@dataclass(frozen=True)
class Window:
    """Where a key stands in its rule's current window."""

    rule: Rule
    count: int  # hits in this window, the current one included
    resets_at: float  # Unix time when the window ends
    retry_after: int  # whole seconds until then, at least 1

    @property
    def remaining(self) -> int:
        return max(0, self.rule.limit - self.count)

    @property
    def exceeded(self) -> bool:
        """True once a hit went over the limit (the limit-th hit itself is still allowed)."""
        return self.count > self.rule.limit

    @property
    def full(self) -> bool:
        """True when one more hit would go over the limit."""
        return self.count >= self.rule.limit


class Limiter(Protocol):
    async def hit(self, rule: Rule, key: str) -> Window:
        """Count one hit for `key` and answer where it now stands."""
        ...

    async def peek(self, rule: Rule, key: str) -> Window:
        """Where `key` stands, without counting."""
        ...

    async def forget(self, rule: Rule, key: str) -> None:
        """Start `key` over (a correct password clears its failures)."""
        ...

    async def close(self) -> None:
        """Let go of what it holds (a connection), when the app stops."""
        ...


class MemoryLimiter:
    """Counts in one dict per rule, `key → (window start, hits)`, in order of window start.

    Memory is bounded. Since a key's window starts when it is first hit, the dict's insertion
    order is the order in which windows end: ended windows are always at its front, and each
    call drops them from there (amortised O(1)). Within a window at most `max_keys` keys are
    kept per rule; past that the oldest is forgotten. So a flood of addresses or made-up tokens
    can only make a few clients' counts start over early: failing open, rather than growing.
    """

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self._rules: dict[Rule, dict[str, tuple[float, int]]] = {}

    async def hit(self, rule: Rule, key: str) -> Window:
        now = self._now()
        counts = self._rules.setdefault(rule, {})
        started, hits = counts.get(key, (now, 0))
        if started + rule.period <= now:  # ended, yet not at the front: the clock went back
            del counts[key]
            started, hits = now, 0
        if key not in counts and len(counts) >= self.max_keys:
            del counts[next(iter(counts))]  # the oldest window
        counts[key] = (started, hits + 1)  # a key already there keeps its place
        return _window(rule, started, hits + 1, now)

    async def peek(self, rule: Rule, key: str) -> Window:
        now = self._now()
        started, hits = self._rules.get(rule, {}).get(key, (now, 0))
        if started + rule.period <= now:
            started, hits = now, 0
        return _window(rule, started, hits, now)

    async def forget(self, rule: Rule, key: str) -> None:
        self._rules.get(rule, {}).pop(key, None)

    async def close(self) -> None:
        """Nothing to let go of."""

    def keys_held(self) -> int:
        """How many counters are in memory, over all rules."""
        return sum(len(counts) for counts in self._rules.values())

    def _now(self) -> float:
        """The time, once the windows that ended before it are gone."""
        now = self.clock()
        for rule, counts in self._rules.items():
            while counts and next(iter(counts.values()))[0] + rule.period <= now:
                del counts[next(iter(counts))]
        return now


def _window(rule: Rule, started: float, hits: int, now: float) -> Window:
    return window_ending(rule, started + rule.period, hits, now)


def window_ending(rule: Rule, resets_at: float, hits: int, now: float) -> Window:
    """Where a key stands with `hits` in a window that ends at `resets_at` (Unix time)."""
    return Window(rule, hits, resets_at, max(1, math.ceil(resets_at - now)))
