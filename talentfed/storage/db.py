"""Database engines and sessions for SQLite (embedded) and PostgreSQL.

SQLite runs in WAL mode with foreign keys enforced, so readers never wait for
the writer and both backends keep the same integrity rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from talentfed.config import Config, ConfigError


class DatabaseUnavailable(Exception):
    """The configured database cannot be reached."""


# What a query raises while the database is stopped, restarting or out of disk space, or while
# every pooled connection is busy is a moment to wait out, not a bug. asyncpg raises OSError
# subclasses of its own when it cannot connect; SQLAlchemy wraps the rest (SQLite's "database or
# disk is full" is an OperationalError; a connection lost mid-query is a DBAPIError that
# SQLAlchemy marks `connection_invalidated`).
# PostgreSQL's SQLSTATE classes for the same: 08 connection exceptions, 53 insufficient resources
# (disk full, too many connections), 57P operator intervention ("the database system is shutting
# down", "... is starting up": asyncpg's CannotConnectNowError, which SQLAlchemy wraps plainly).
UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database is out of reach (as opposed to a query that is wrong)."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | ConnectionError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return exc.connection_invalidated or sqlstate.startswith(UNAVAILABLE_SQLSTATES)


PREPARED_STATEMENTS_KEPT = 1000  # per PostgreSQL connection


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An async engine with the per-backend settings talentfed relies on."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        # A busy writer makes other connections wait rather than fail at once.
        kwargs["connect_args"] = {"timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # Keep connections open: an overflow connection would be reopened (a thread and
            # the PRAGMAs) for every burst.
            kwargs.update(pool_size=pool_size, max_overflow=0, pool_timeout=60)
    else:
        # LIFO: under light load the same few connections serve (their prepared statements
        # stay warm) and the others sit idle, to be pinged before their next use.
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True)
        # SQLAlchemy's asyncpg adapter prepares each new statement text (a round trip, a parse
        # and a plan) and keeps 100 per connection. A batch's multi-row INSERTs have a text per
        # batch size, so the inbox's statements alone outnumber 100 and evicted each other.
        kwargs["connect_args"] = {"prepared_statement_cache_size": PREPARED_STATEMENTS_KEPT}
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    else:
        ping_when_idle(engine)
    return engine


# SQLAlchemy's pool_pre_ping pings at every checkout, and on asyncpg a ping is three round trips
# (BEGIN, ";", ROLLBACK): more than the statements of an inbox batch, on both the node's and
# PostgreSQL's CPU. A connection used this recently is taken as alive; one that died since fails
# its query like any query while the database is away (503, and SQLAlchemy then drops the pool's
# connections).
PING_AFTER_IDLE = 1.0  # seconds
_LAST_USED = "talentfed.last_used"  # in a pooled connection's info: time.monotonic() of its checkin


def ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection at checkout only if it has been idle for more than
    PING_AFTER_IDLE seconds; a dead one is replaced (the pool reconnects and checks out again)."""
    dialect = engine.dialect

    def used(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if last_used is not None and time.monotonic() - last_used <= PING_AFTER_IDLE:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # every driver has its own error classes
            raise DisconnectionError(first_line(exc)) from exc

    event.listen(engine.sync_engine, "connect", used)  # just opened: alive
    event.listen(engine.sync_engine, "checkin", used)
    event.listen(engine.sync_engine, "checkout", checkout)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine, timeout: float = 5.0) -> None:
    """Run a trivial query; raise DatabaseUnavailable with the reason if it fails."""
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        raise DatabaseUnavailable(f"no answer within {timeout:g} s") from None
    except Exception as exc:  # every driver has its own error classes
        raise DatabaseUnavailable(first_line(exc)) from None


async def check_reachable(config: Config) -> None:
    """Fail with a one-line ConfigError when the configured database does not answer."""
    engine = create_engine(config.database.url, pool_size=1)
    try:
        await ping(engine)
    except DatabaseUnavailable as exc:
        raise ConfigError(
            config.source, "[database] url", f"expected a reachable database, but connecting failed: {exc}"
        ) from None
    finally:
        await engine.dispose()


def first_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    text_ = message[0] if message else type(exc).__name__
    # SQLAlchemy wraps driver errors as "(module.Error) text": keep only the text.
    if text_.startswith("(") and ") " in text_:
        text_ = text_.split(") ", 1)[1]
    return text_


def rowcount(result: Result[Any]) -> int:
    """The rows an executed UPDATE or DELETE matched (its result is a `CursorResult`)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} is not the result of an UPDATE or DELETE")
    return result.rowcount


def sqlite_engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine | None:
    """The engine behind `sessions` if it is SQLite (one writer at a time), else None."""
    engine = sessions.kw.get("bind")
    return engine if engine is not None and engine.dialect.name == "sqlite" else None


_write_locks: dict[tuple[str, int], asyncio.Lock] = {}


def write_lock(sessions: async_sessionmaker[AsyncSession]) -> contextlib.AbstractAsyncContextManager[None]:
    """Serialise this process's write transactions on SQLite (a no-op on PostgreSQL).

    SQLite has one writer at a time; a second writer would wait in SQLite's busy handler, which
    sleeps in steps of up to 100 ms. Waiting on an asyncio lock instead hands the database over
    as soon as it is free.
    """
    engine = sqlite_engine_of(sessions)
    if engine is None:
        return contextlib.nullcontext()
    key = (str(engine.url), id(asyncio.get_running_loop()))
    lock = _write_locks.get(key)
    if lock is None:
        lock = _write_locks[key] = asyncio.Lock()
    return lock
