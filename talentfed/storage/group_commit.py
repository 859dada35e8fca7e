"""Group commit: units of database work from many concurrent requests share transactions.

Under load, most of an inbox write's time is not SQL but the fixed cost of a transaction:
taking the (SQLite) write lock, BEGIN, COMMIT, and the round trips to the driver's thread
while the event loop is busy with other requests. `GroupCommit.run(unit)` queues `unit`;
one drainer task takes everything queued and runs the units one after another in a single
transaction, then answers each caller. While it works, new units queue up for the next batch,
so the batch grows with the load by itself and stays at one unit when the node is idle.

Semantics a caller can rely on: a unit's effects are committed exactly once, either with its
batch or alone. If any unit of a batch raises, the batch is rolled back and every unit of it
runs again alone, in its own transaction, so one bad unit never costs the others their work,
and the caller gets its own unit's result or exception. A unit may therefore run twice (the
first time rolled back): it must not have effects outside the session it is given that
cannot be repeated. A unit that fails because a row it read was changed by another transaction
before it wrote (the ORM's StaleDataError) is run again, alone, a few times: it then reads the
row as it is now.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from talentfed.storage.db import session_factory, sqlite_engine_of, write_lock
from talentfed.storage.inline_sqlite import inline_engine

logger = logging.getLogger("talentfed.storage")

T = TypeVar("T")
Unit = Callable[[AsyncSession], Awaitable[T]]
# Called once per shared transaction, before its units, with the hints they were queued with:
# what many units would each look up can be looked up once (see Inbox).
Prepare = Callable[[AsyncSession, list[Any]], Awaitable[None]]

MAX_BATCH = 64  # units per transaction; bounds the work lost to one bad unit
POSTGRESQL_DRAINERS = 2  # batches written at once by a process on PostgreSQL (see __init__)
# Runs of a unit whose UPDATE or DELETE found its row changed by another transaction (two web
# processes applying a Follow and its Undo at once): each run reads afresh, so one more is
# nearly always enough; the bound keeps a pathological unit from looping.
STALE_RUNS = 3


@dataclass
class _Queued(Generic[T]):
    unit: Unit[T]
    answer: asyncio.Future[T]
    hint: Any = None


class GroupCommit:
    """Runs units of work in shared transactions; see the module's text for the guarantees."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = MAX_BATCH,
        parallel: int | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        self.sessions = sessions
        self.prepare = prepare
        self.max_batch = max_batch
        # SQLite has one writer: more drainers would only queue on its lock. PostgreSQL runs two
        # batches side by side, so that one is written while the other waits for its commit; a
        # drainer starts as soon as a unit finds fewer running, so more would split the load into
        # small batches, each a transaction (BEGIN, COMMIT, a WAL flush) on both CPUs' account.
        sqlite = sqlite_engine_of(sessions)
        self.parallel = parallel or (1 if sqlite else POSTGRESQL_DRAINERS)
        # On an SQLite file, batches run on the event loop's thread (see storage/inline_sqlite.py);
        # a unit that runs alone, after a failed batch, uses the ordinary threaded engine.
        self._inline_url: str | None = None
        if sqlite is not None and sqlite.url.database not in (None, "", ":memory:"):
            self._inline_url = sqlite.url.render_as_string(hide_password=False)
        self._inline: AsyncEngine | None = None  # opened with the first batch
        self._inline_sessions: async_sessionmaker[AsyncSession] | None = None
        self._queue: list[_Queued[Any]] = []
        self._drainers: set[asyncio.Task[None]] = set()
        self.batches = 0  # committed batches, for the tests and the logs
        self.fallbacks = 0  # batches rolled back and rerun unit by unit

    async def run(self, unit: Unit[T], *, hint: Any = None) -> T:
        """Run `unit(session)` in a transaction shared with other queued units; its result.

        `hint` is passed to `prepare` with the other hints of the batch.
        """
        answer: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(unit, answer, hint))
        if len(self._drainers) < self.parallel:
            # The drainer works for every caller, so it starts from an empty context rather than a
            # copy of the first caller's (whose request id its log lines would otherwise carry);
            # a unit that needs its caller's context variables sets them itself.
            self._drainers.add(asyncio.create_task(self._drain(), context=contextvars.Context()))
        # The caller may give up (client gone); the unit still runs, its answer is dropped.
        return await asyncio.shield(answer)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                try:
                    await self._run_batch(batch)
                except BaseException as exc:  # never leave a caller waiting forever
                    for queued in batch:
                        _fail(queued.answer, exc)
                    if not isinstance(exc, Exception):
                        raise
        finally:
            # Synchronously after the last look at the queue: a unit queued from now on
            # sees one drainer fewer and starts its own.
            self._drainers.discard(asyncio.current_task())

    async def _run_batch(self, batch: list[_Queued[Any]]) -> None:
        try:
            results = await self._together(batch)
        except Exception as exc:
            if not self._worth_rerunning(batch, exc):
                _fail(batch[0].answer, exc)
                return
            self.fallbacks += 1
            logger.debug("a batch of %d was rolled back (%s); running its units alone", len(batch), exc)
        else:
            self.batches += 1
            for queued, result in zip(batch, results, strict=True):
                _answer(queued.answer, result)
            return
        for queued in batch:
            try:
                result = await self._alone(queued.unit)
            except Exception as exc:
                _fail(queued.answer, exc)
            else:
                _answer(queued.answer, result)

    def _worth_rerunning(self, batch: list[_Queued[Any]], exc: Exception) -> bool:
        """A lone unit's own error is its answer, unless the inline connection could not get
        SQLite's lock (another process writes): then the threaded engine waits for it."""
        if isinstance(exc, StaleDataError):
            return True
        return len(batch) > 1 or (self._inline_url is not None and isinstance(exc, OperationalError))

    async def _together(self, batch: list[_Queued[Any]]) -> list[Any]:
        async with write_lock(self.sessions), self._batch_sessions()() as session, session.begin():
            if self.prepare is not None:
                await self.prepare(session, [queued.hint for queued in batch if queued.hint is not None])
            return [await queued.unit(session) for queued in batch]

    def _batch_sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._inline_url is None:
            return self.sessions
        if self._inline_sessions is None:
            self._inline = inline_engine(self._inline_url)
            self._inline_sessions = session_factory(self._inline)
        return self._inline_sessions

    async def _alone(self, unit: Unit[T]) -> T:
        for run in range(1, STALE_RUNS + 1):
            try:
                async with write_lock(self.sessions), self.sessions() as session, session.begin():
                    result = await unit(session)
            except StaleDataError:
                if run == STALE_RUNS:
                    raise
                logger.info("a unit's row changed under it (run %d of %d); running it again", run, STALE_RUNS)
                continue
            self.batches += 1
            return result
        raise AssertionError("unreachable: the last run returns or raises")

    async def close(self) -> None:
        """Let every queued unit run, then close the inline connection."""
        while self._drainers:
            await asyncio.gather(*list(self._drainers), return_exceptions=True)
        if self._inline is not None:
            await self._inline.dispose()
            self._inline, self._inline_sessions = None, None


def _answer(future: asyncio.Future[T], result: T) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
        # Retrieved by the caller normally; if the caller is gone, don't log "never retrieved".
        with contextlib.suppress(BaseException):
            future.exception()
