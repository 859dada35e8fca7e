"""Which database connections the current task holds: to show that a request waits on another
server with none checked out. The pool's own count (`checkedout()`) also sees the connections
of background jobs running beside the request, which made such checks flaky."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class TaskConnections:
    """Counts, per asyncio task, the connections it has checked out of `engine`'s pool."""

    def __init__(self) -> None:
        self._holder: dict[int, asyncio.Task[Any] | None] = {}

    def held_by_current_task(self) -> int:
        task = asyncio.current_task()
        return sum(1 for holder in self._holder.values() if holder is task)

    def _checked_out(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        self._holder[id(dbapi_connection)] = _current_task()

    def _checked_in(self, dbapi_connection: Any, record: Any) -> None:
        self._holder.pop(id(dbapi_connection), None)


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # checked out outside any event loop
        return None


@contextmanager
def watched_connections(engine: AsyncEngine) -> Iterator[TaskConnections]:
    pool = engine.sync_engine.pool
    watcher = TaskConnections()
    event.listen(pool, "checkout", watcher._checked_out)
    event.listen(pool, "checkin", watcher._checked_in)
    try:
        yield watcher
    finally:
        event.remove(pool, "checkout", watcher._checked_out)
        event.remove(pool, "checkin", watcher._checked_in)
