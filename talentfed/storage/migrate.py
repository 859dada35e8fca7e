"""Schema migrations (Alembic), run against an async engine.

Alembic itself is synchronous; we hand it a sync connection borrowed from the
async engine, so the same code path serves SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Any = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    return _scripts().get_current_head()


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against the migrations this code carries."""

    current: str | None
    head: str | None
    pending: tuple[str, ...]  # revisions to apply, oldest first
    newer: bool  # at a revision this code does not know: a newer release migrated it

    @property
    def up_to_date(self) -> bool:
        """This code can run on it: at head, or ahead of it (during an upgrade, processes of the
        previous release keep serving after the new release's migrations ran)."""
        return not self.pending


async def schema_state(engine: AsyncEngine) -> SchemaState:
    return state_of(await current_revision(engine))


def state_of(current: str | None) -> SchemaState:
    """Where a schema at revision `current` stands (a database's, or a backup's)."""
    head = head_revision()
    scripts = _scripts()
    if current is not None and current not in {script.revision for script in scripts.walk_revisions()}:
        return SchemaState(current, head, (), newer=True)
    pending = [script.revision for script in scripts.iterate_revisions(head, current)] if head else []
    return SchemaState(current, head, tuple(reversed(pending)), newer=False)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with _migrating(engine) as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with _migrating(engine) as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


@contextlib.asynccontextmanager
async def _migrating(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction to migrate on.

    On SQLite, foreign keys are off meanwhile: batch mode rebuilds a table by copying it and
    dropping the old one, and dropping `actors` with them on deletes every row that references
    it (ON DELETE CASCADE). The references are checked before the migration commits instead.
    """
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as connection:
        if sqlite:  # outside a transaction, where SQLite ignores it
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()
        try:
            async with connection.begin():
                yield connection
                if sqlite:
                    broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).first()
                    if broken is not None:
                        raise RuntimeError(f"a migration left a row of {broken[0]} referring to nothing")
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()


async def make_revision(engine: AsyncEngine, message: str) -> None:
    """Autogenerate a new revision from the models (for maintainers; see docs/architecture.md)."""
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.revision(alembic_config(sync), message=message, autogenerate=True)
        )


if __name__ == "__main__":
    # python -m talentfed.storage.migrate "message" — against a scratch SQLite database at head.
    import asyncio
    import tempfile

    from talentfed.storage.db import create_engine

    async def _main(message: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_engine(f"sqlite+aiosqlite:///{tmp}/scratch.db")
            await upgrade(engine)
            await make_revision(engine, message)
            await engine.dispose()

    asyncio.run(_main(sys.argv[1] if len(sys.argv) > 1 else "change"))
