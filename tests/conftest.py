"""Shared fixtures: a fresh, migrated database on SQLite and on PostgreSQL for every test that asks.

Tests that take `db_url` (or anything built on it) run once per backend; their ids
end in [sqlite] or [postgresql]. Each test run creates its own PostgreSQL database
(talentfed_test_<random>) and drops it at the end, so runs never collide.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.config import Config, load_config
from talentfed.storage import migrate
from talentfed.storage.db import create_engine, session_factory
from talentfed.storage.models import Base
from tests.support import IN_CI, write_config
from tests.support.demo_app import demo_app_client

BACKENDS = ("sqlite", "postgresql")
PG_HOST, PG_PORT = "127.0.0.1", 5432


def run_blocking(coroutine):
    """Run a coroutine to completion, also from inside a test whose event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# --- PostgreSQL: one throw-away template database per run ------------------------------


async def _pg_admin() -> asyncpg.Connection:
    errors = []
    for user in (os.environ.get("PGUSER"), "postgres", "root"):
        if not user:
            continue
        try:
            return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=user, database="test", timeout=5)
        except Exception as exc:
            errors.append(f"{user}: {exc}")
    raise ConnectionError("; ".join(errors))


async def _pg_execute(*statements: str) -> str:
    connection = await _pg_admin()
    try:
        for statement in statements:
            await connection.execute(statement)
        return connection._params.user  # type: ignore[attr-defined]
    finally:
        await connection.close()


def _pg_url(user: str, database: str) -> str:
    return f"postgresql+asyncpg://{user}@{PG_HOST}:{PG_PORT}/{database}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[tuple[str, str, list[str]]]:
    """(user, template name, databases copied from it): a database at head, copied for each test."""
    name = f"talentfed_test_{uuid.uuid4().hex[:12]}"
    try:
        user = run_blocking(_pg_execute(f'CREATE DATABASE "{name}"'))
    except (ConnectionError, OSError) as exc:
        message = f"PostgreSQL at {PG_HOST}:{PG_PORT} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(message + " (CI must run every test on PostgreSQL)", pytrace=False)
        pytest.skip(message)
    created: list[str] = []

    async def migrate_template() -> None:
        engine = create_engine(_pg_url(user, name))
        await migrate.upgrade(engine)
        await engine.dispose()

    run_blocking(migrate_template())  # may be first asked for inside an async test (fresh_database)
    yield user, name, created
    drops = [f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in [*created, name]]
    asyncio.run(_pg_execute(*drops))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(engine)
        async with engine.connect() as connection:  # fold the WAL into the main file before copying
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await engine.dispose()

    run_blocking(build())  # may be first asked for inside an async test (fresh_database)
    return path


@pytest.fixture
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path):
    """A factory: fresh_database(backend) → URL of a new, migrated, empty database;
    fresh_database(backend, schema=False): without a schema (an SQLite file not created yet),
    for tests that migrate, destroy or restore a database whole."""

    def make(backend: str, *, schema: bool = True) -> str:
        if backend == "sqlite":
            target = tmp_path / f"{uuid.uuid4().hex[:8]}.db"
            if schema:
                shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
            return f"sqlite+aiosqlite:///{target}"
        user, template, created = request.getfixturevalue("pg_template")
        name = f"{template}_{len(created)}"
        copied = f' TEMPLATE "{template}"' if schema else ""
        run_blocking(_pg_execute(f'CREATE DATABASE "{name}"{copied}'))
        created.append(name)
        return _pg_url(user, name)

    return make


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def pg_shared(pg_template) -> str:
    """One more copy of the template, emptied before each test that uses it.

    Emptying (TRUNCATE) takes milliseconds where dropping a database takes about a second,
    so tests share this one; tests that change the schema ask `fresh_database` instead.
    """
    user, template, created = pg_template
    name = f"{template}_shared"
    run_blocking(_pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    created.append(name)
    return _pg_url(user, name)


async def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            await connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await engine.dispose()


@pytest.fixture
def db_url(backend: str, fresh_database, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return fresh_database(backend)
    url = request.getfixturevalue("pg_shared")
    run_blocking(_truncate_all(url))
    return url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        yield session


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Config:
    return load_config(write_config(tmp_path, db_url), environ={})


# --- report: how many tests ran on each backend ---------------------------------------


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if report.when != "call" and outcome == "passed":
                continue
            params = report.nodeid.rpartition("[")[2].rstrip("]").split("-")
            for name in BACKENDS:
                if name in params:
                    counts[(name, outcome)] += 1
    outcomes = ("passed", "failed", "error", "skipped")
    lines = []
    for name in BACKENDS:
        parts = [f"{counts[(name, o)]} {o}" for o in outcomes if counts[(name, o)]]
        lines.append(f"  {name}: {', '.join(parts) or 'no tests'}")
    terminalreporter.write_sep("-", "database backends")
    for line in lines:
        terminalreporter.write_line(line)


@pytest.fixture
async def demo_client(config: Config, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to an app (in process) whose database holds the demo institution."""
    async with demo_app_client(config, engine) as client:
        yield client


# --- keys: RSA-2048 generation costs ~150 ms; in-process tests draw from a pool ---------------

_KEY_POOL_SIZE = 24


@pytest.fixture(scope="session")
def rsa_key_pool() -> list[tuple[str, str]]:
    from talentfed.federation.signatures import keys

    return [keys.generate_rsa_keypair() for _ in range(_KEY_POOL_SIZE)]


@pytest.fixture(autouse=True)
def distinct_pooled_keys(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every actor created in one test still gets its own key (up to the pool's size)."""
    if request.node.get_closest_marker("real_keygen"):
        return
    pool = iter(request.getfixturevalue("rsa_key_pool"))

    def next_keypair() -> tuple[str, str]:
        try:
            return next(pool)
        except StopIteration:
            raise AssertionError("more actors than the test key pool holds: raise _KEY_POOL_SIZE") from None

    monkeypatch.setattr("talentfed.domain.members.generate_rsa_keypair", next_keypair)
