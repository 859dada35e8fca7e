"""An SQLite engine whose statements run on the event loop's own thread, for short writes.

aiosqlite runs every call in a worker thread, and SQLAlchemy's adapter makes four calls per
statement (cursor, execute, fetch, close); each hand-off to the thread and back costs about
80 µs on a small machine, and more while the event loop is busy with other requests. The
statements of an inbox write take a few µs each in SQLite itself, so for group commit
(`storage/group_commit.py`) most of the time went into hand-offs.

`inline_engine(url)` gives SQLAlchemy's aiosqlite dialect a connection that looks like an
aiosqlite one but whose coroutines finish at once, calling `sqlite3` directly. The price:
while a statement runs, the event loop waits. That is why it is used only for short write
transactions, and why its busy timeout is short: if another process holds SQLite's write
lock, the statement fails fast ("database is locked") and the caller retries on the
ordinary, threaded engine instead of freezing every request of the node.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from talentfed.storage.db import sqlite_pragmas

BUSY_TIMEOUT = 0.05  # seconds the event loop may wait for another process's write lock


class InlineCursor:
    """The coroutine methods of an aiosqlite cursor, done synchronously."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        self._cursor.execute(sql, parameters if parameters is not None else ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses to set the isolation level."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Any]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as exc:
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection:
    """The parts of `aiosqlite.Connection` SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # None once closed
        self._tx = _RunNow()

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_engine(url: str) -> AsyncEngine:
    """One inline connection to the SQLite database at `url` (an sqlite+aiosqlite URL)."""
    path = make_url(url).database
    if not path or path == ":memory:":
        raise ValueError("an inline engine needs an SQLite file (a :memory: database is per connection)")

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(path, timeout=BUSY_TIMEOUT, check_same_thread=False))

    engine = create_async_engine(url, async_creator=connect, pool_size=1, max_overflow=0, pool_timeout=60)
    event.listen(engine.sync_engine, "connect", sqlite_pragmas)  # as on every other connection
    return engine
