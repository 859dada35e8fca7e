"""Schema migrations (Alembic), run against an async engine.

Alembic itself is synchronous; we hand it a sync connection borrowed from the
async engine, so the same code path serves SQLite and PostgreSQL.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Any = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


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
