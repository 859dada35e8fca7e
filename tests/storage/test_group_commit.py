"""Group commit: concurrent units share transactions, and one bad unit costs the others nothing.

On SQLite the batches run on the inline connection (storage/inline_sqlite.py), so these tests
also exercise it; on PostgreSQL they run on the ordinary engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from talentfed.storage.db import session_factory
from talentfed.storage.group_commit import GroupCommit
from talentfed.storage.inline_sqlite import BUSY_TIMEOUT, inline_engine
from talentfed.storage.models import DomainBlock
from tests.support.waiting import event_set, eventually


def block(domain: str):
    async def unit(session: AsyncSession) -> str:
        session.add(DomainBlock(domain=domain))
        await session.flush()  # an error surfaces inside the unit, as a handler's would
        return domain

    return unit


async def stored_domains(engine: AsyncEngine) -> list[str]:
    async with session_factory(engine)() as session:
        return sorted(await session.scalars(select(DomainBlock.domain)))


async def test_concurrent_units_share_transactions(engine: AsyncEngine) -> None:
    writes = GroupCommit(session_factory(engine))
    domains = [f"d{i}.example" for i in range(40)]
    try:
        results = await asyncio.gather(*(writes.run(block(d)) for d in domains))
    finally:
        await writes.close()
    assert results == domains  # each caller gets its own unit's result
    assert await stored_domains(engine) == sorted(domains)
    assert writes.batches < len(domains), "every unit got a transaction of its own"
    assert writes.fallbacks == 0


async def test_a_failing_unit_fails_alone(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session, session.begin():
        session.add(DomainBlock(domain="taken.example"))
    writes = GroupCommit(session_factory(engine))

    async def broken(session: AsyncSession) -> None:
        session.add(DomainBlock(domain="half-done.example"))
        raise ValueError("this unit is broken")

    units = [block("a.example"), block("taken.example"), broken, block("b.example")]
    try:
        results = await asyncio.gather(*(writes.run(unit) for unit in units), return_exceptions=True)
    finally:
        await writes.close()
    assert results[0] == "a.example" and results[3] == "b.example"
    assert isinstance(results[1], IntegrityError)
    assert isinstance(results[2], ValueError)
    # The others' work is kept; nothing of the failed units is.
    assert await stored_domains(engine) == ["a.example", "b.example", "taken.example"]
    assert writes.fallbacks == 1


async def test_a_lone_failing_unit_runs_once(engine: AsyncEngine) -> None:
    calls = 0

    async def invalid(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("invalid")

    writes = GroupCommit(session_factory(engine))
    try:
        with pytest.raises(ValueError):
            await writes.run(invalid)
        # Units queued after the drainer finished start one of their own.
        assert await writes.run(block("later.example")) == "later.example"
    finally:
        await writes.close()
    assert calls == 1


async def test_prepare_sees_the_hints_of_its_batch(engine: AsyncEngine) -> None:
    seen: list[list[str]] = []

    async def prepare(session: AsyncSession, hints: list[str]) -> None:
        seen.append(hints)

    writes = GroupCommit(session_factory(engine), prepare=prepare)
    domains = [f"h{i}.example" for i in range(10)]
    try:
        await asyncio.gather(*(writes.run(block(d), hint=d) for d in domains))
    finally:
        await writes.close()
    assert sorted(h for hints in seen for h in hints) == domains


async def test_a_caller_that_gives_up_does_not_lose_the_write(engine: AsyncEngine) -> None:
    writes = GroupCommit(session_factory(engine))
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(session: AsyncSession) -> None:
        started.set()
        await release.wait()  # still running when its caller gives up
        session.add(DomainBlock(domain="slow.example"))

    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(writes.run(slow), 0.05)
        await event_set(started, what="the unit to run")
    finally:
        release.set()
        await writes.close()  # waits for the queued work
    assert await stored_domains(engine) == ["slow.example"]


# --- the inline SQLite connection ----------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_inline_engine_reads_writes_and_rolls_back(engine: AsyncEngine) -> None:
    inline = inline_engine(engine.url.render_as_string(hide_password=False))
    try:
        async with session_factory(inline)() as session:
            async with session.begin():
                session.add(DomainBlock(domain="kept.example", private_comment="spam"))
            with pytest.raises(IntegrityError):
                async with session.begin():
                    session.add(DomainBlock(domain="kept.example"))
            assert await session.scalar(select(DomainBlock.private_comment)) == "spam"
    finally:
        await inline.dispose()
    assert await stored_domains(engine) == ["kept.example"]  # seen by the threaded engine


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_inline_engine_does_not_wait_long_for_another_writer(engine: AsyncEngine) -> None:
    """The event loop waits while an inline statement runs: a lock held elsewhere must fail
    fast, and group commit then falls back to the threaded engine, which waits for it."""
    path = make_url(str(engine.url)).database
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction, say
    inline = inline_engine(engine.url.render_as_string(hide_password=False))
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            async with session_factory(inline)() as session, session.begin():
                session.add(DomainBlock(domain="x.example"))
        assert time.monotonic() - started < BUSY_TIMEOUT + 1.0

        writes = GroupCommit(session_factory(engine))
        pending = asyncio.ensure_future(writes.run(block("waited.example")))
        # The inline attempt fails on the lock and the unit runs again alone, on the threaded
        # engine, which waits for the lock: well past the inline connection's BUSY_TIMEOUT it
        # has neither failed nor finished. (This wait is what is tested: it stays.)
        await eventually(lambda: writes.fallbacks == 1, what="the inline batch to fall back")
        done, _ = await asyncio.wait({pending}, timeout=BUSY_TIMEOUT * 4)
        assert not done, "the threaded fallback did not wait for the lock"
        other.execute("COMMIT")
        assert await asyncio.wait_for(pending, 10) == "waited.example"
        await writes.close()
    finally:
        other.close()
        await inline.dispose()
    assert await stored_domains(engine) == ["waited.example"]


async def test_postgresql_writes_two_batches_at_once_sqlite_one(engine: AsyncEngine, backend: str) -> None:
    # More drainers would split a burst into more, smaller transactions (issue 15).
    writes = GroupCommit(session_factory(engine))
    running: set[int] = set()  # the sessions (batches) with a unit running now
    most = 0

    def slow(domain: str):
        async def unit(session: AsyncSession) -> None:
            nonlocal most
            running.add(id(session))
            most = max(most, len(running))
            await asyncio.sleep(0.005)  # while it waits, later units queue and drainers start
            running.discard(id(session))
            session.add(DomainBlock(domain=domain))

        return unit

    try:
        arriving = []
        for i in range(64):  # one at a time, while earlier batches are being written
            arriving.append(asyncio.ensure_future(writes.run(slow(f"d{i}.example"))))
            await asyncio.sleep(0.001)
        await asyncio.gather(*arriving)
    finally:
        await writes.close()
    assert most == (2 if backend == "postgresql" else 1)
    assert len(await stored_domains(engine)) == 64


async def test_a_unit_whose_row_changed_under_it_runs_again(engine: AsyncEngine) -> None:
    # Two web processes apply a Follow and its Undo at once: the Follow's UPDATE finds the row
    # the Undo deleted (StaleDataError). That was a 500; run again, the unit reads the row as it is.
    calls = 0

    async def raced(session: AsyncSession) -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise StaleDataError("UPDATE on table 'follows' expected to update 1 row(s); 0 were matched.")
        return await block("raced.example")(session)

    async def always_stale(session: AsyncSession) -> None:
        raise StaleDataError("always")

    writes = GroupCommit(session_factory(engine))
    try:
        assert await writes.run(raced) == "raced.example"
        with pytest.raises(StaleDataError):
            await writes.run(always_stale)
    finally:
        await writes.close()
    assert calls == 3  # in its batch, then alone twice
    assert await stored_domains(engine) == ["raced.example"]
