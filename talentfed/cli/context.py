"""What every command needs: the loaded configuration and a database session."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.config import Config, ConfigError
from talentfed.storage import migrate
from talentfed.storage.db import check_reachable, create_engine, session_factory


class CommandError(Exception):
    """A command cannot do what was asked; printed as one line, exit status 1."""


async def open_engine(config: Config, *, require_schema: bool = True) -> AsyncEngine:
    """An engine to a reachable database, at the current schema unless told otherwise."""
    await check_reachable(config)
    engine = create_engine(config.database.url, pool_size=config.database.pool_size)
    if require_schema:
        state = await migrate.schema_state(engine)
        if not state.up_to_date:
            await engine.dispose()
            problem = f"{describe_schema(state)}: run `talentfed migrate`"
            raise ConfigError(config.source, "[database] url", problem)
    return engine


def describe_schema(state: migrate.SchemaState) -> str:
    if state.current is None:
        return "the database has no schema yet"
    if state.newer:
        return f"the database is at revision {state.current}, newer than this release's {state.head}"
    if state.pending:
        count = len(state.pending)
        return f"the database is at revision {state.current}, {count} migration(s) behind {state.head}"
    return f"the database is at revision {state.current} (current)"


@contextlib.asynccontextmanager
async def transaction(config: Config) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed when the block ends without an error."""
    engine = await open_engine(config)
    try:
        async with session_factory(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()
