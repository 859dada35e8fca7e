"""Waiting for what a test expects to happen, instead of sleeping and hoping it has.

    await eventually(lambda: len(server.received) == 2, what="both POSTs")     # async, polls
    await event_set(started, what="the unit to start")                        # async, an Event
    wait_until(lambda: node.get_json(path), what="the post on node B")        # sync, polls

Each fails with an AssertionError naming what it waited for, how long, and the last value seen.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _timed_out(timeout: float, condition: Callable[..., Any], what: str | None, last: Any) -> AssertionError:
    what = what or getattr(condition, "__name__", None) or repr(condition)
    return AssertionError(f"timed out after {timeout:g} s waiting for {what} (last value: {last!r})")


async def eventually(
    condition: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str | None = None,
) -> T:
    """Poll `condition` (a function, or a coroutine function) until it returns something truthy;
    return that. Fails after `timeout` seconds."""
    last: Any = None
    try:
        async with asyncio.timeout(timeout):
            while True:
                value = condition()
                if inspect.isawaitable(value):
                    value = await value
                last = value
                if value:
                    return value
                await asyncio.sleep(interval)
    except TimeoutError:
        raise _timed_out(timeout, condition, what, last) from None


async def event_set(event: asyncio.Event, *, timeout: float = 10.0, what: str = "the event") -> None:
    """Wait for `event` to be set by the code under test. Fails after `timeout` seconds."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}") from None


def wait_until(
    condition: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.25, what: str | None = None
) -> T:
    """Poll `condition` from synchronous code (other processes, a browser) until it returns
    something truthy; return that. Fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise _timed_out(timeout, condition, what, last)
        time.sleep(interval)
