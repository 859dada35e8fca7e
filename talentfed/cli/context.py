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
        current, head = await migrate.current_revision(engine), migrate.head_revision()
        if current != head:
            await engine.dispose()
            state = "has no schema yet" if current is None else f"is at revision {current}, not {head}"
            raise ConfigError(
                config.source, "[database] url", f"the database {state}: run `talentfed migrate`"
            )
    return engine


@contextlib.asynccontextmanager
async def transaction(config: Config) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed when the block ends without an error."""
    engine = await open_engine(config)
    try:
        async with session_factory(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()
