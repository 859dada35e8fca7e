"""PostgreSQL's connection pool: a connection in steady use is not pinged at every checkout
(SQLAlchemy's pre-ping is three round trips on asyncpg), and a dead one is still replaced."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage import db
from talentfed.storage.db import create_engine, is_unavailable


def count_pings(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    pings: list[object] = []
    do_ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return do_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")))


async def terminate(pg_shared: str, pid: int) -> None:
    admin = await asyncpg.connect(pg_shared.replace("postgresql+asyncpg", "postgresql"))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_in_steady_use_is_not_pinged(pg_shared: str, monkeypatch) -> None:
    engine = create_engine(pg_shared, pool_size=1)
    pings = count_pings(engine, monkeypatch)
    try:
        pids = {await backend_pid(engine) for _ in range(5)}
    finally:
        await engine.dispose()
    assert len(pids) == 1  # one pooled connection, reused
    assert pings == []


async def test_an_idle_connection_that_died_is_replaced(pg_shared: str, monkeypatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # every pooled connection counts as idle
    engine = create_engine(pg_shared, pool_size=1)
    pings = count_pings(engine, monkeypatch)
    try:
        first = await backend_pid(engine)
        await terminate(pg_shared, first)
        second = await backend_pid(engine)  # the ping fails; a new connection answers
    finally:
        await engine.dispose()
    assert second != first
    assert len(pings) >= 2


async def test_a_recently_used_connection_that_died_fails_as_unavailable_once(pg_shared: str) -> None:
    engine = create_engine(pg_shared, pool_size=1)
    try:
        first = await backend_pid(engine)
        await terminate(pg_shared, first)
        with pytest.raises(DBAPIError) as failed:  # not pinged: used a moment ago
            await backend_pid(engine)
        assert is_unavailable(failed.value)  # answered 503, never 500
        assert await backend_pid(engine) != first  # the pool has dropped the dead connection
    finally:
        await engine.dispose()


async def test_a_connection_keeps_the_statements_of_a_busy_inbox_prepared(
    pg_shared: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An inbox batch's multi-row INSERTs have a statement text per batch size: well over
    # asyncpg's adapter's default of 100 kept per connection, which then evicted each other.
    prepared: list[str] = []
    prepare = asyncpg.Connection.prepare

    async def counted(self: asyncpg.Connection, query: str, *args: object, **kwargs: object) -> object:
        prepared.append(query)
        return await prepare(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "prepare", counted)
    texts = [text(f"SELECT {n} AS size_{n}") for n in range(300)]
    engine = create_engine(pg_shared, pool_size=1)
    try:
        async with engine.connect() as connection:
            for statement in texts:
                await connection.execute(statement)
            first_round = len(prepared)
            for statement in texts:
                await connection.execute(statement)
    finally:
        await engine.dispose()
    assert first_round >= len(texts)
    assert len(prepared) == first_round  # the second round found every statement prepared
