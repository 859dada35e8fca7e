"""CPU-bound work in a separate process, so that the process serving requests keeps answering.

A thread is not enough for pure-Python work such as tokenising every post for TF-IDF: it holds
the GIL, and a `serve` process running the analytics job in a thread stalled its requests for
seconds (docs/benchmarks.md §3). Small inputs stay in a thread: below `PROCESS_THRESHOLD` items,
pickling them to another process and back costs more than the work.

The pool has one process, started on first use with `spawn` (forking a process that runs an event
loop and database threads is unsafe), at a lower CPU priority than the web process: on a small
machine, requests come first and the analytics take the time that is left.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")

PROCESS_THRESHOLD = 2_000  # items (texts, rows) from which a process pays for itself
NICENESS = 5  # added to the worker process's priority: below the web process, not starved

_pool: ProcessPoolExecutor | None = None


async def cpu_bound(function: Callable[..., T], *args: object, items: int) -> T:
    """`function(*args)`, off the event loop: in the pool's process when `items` reaches
    PROCESS_THRESHOLD, else in a thread. `function` and `args` must pickle (module-level)."""
    if items < PROCESS_THRESHOLD:
        return await asyncio.to_thread(function, *args)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_process_pool(), function, *args)


def _process_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        context = multiprocessing.get_context("spawn")
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_lower_priority)
        atexit.register(shutdown)
    return _pool


def _lower_priority() -> None:
    with contextlib.suppress(OSError):  # not permitted here: run at the same priority
        os.nice(NICENESS)


def shutdown() -> None:
    """Stop the pool's process (at exit, or when the node stops)."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
