"""The Alembic migrations and the models describe the same schema, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage import migrate
from talentfed.storage.db import create_engine
from talentfed.storage.models import Base
from talentfed.storage.search import is_model_object


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(
                    sync, opts={"compare_type": True, "include_name": is_model_object}
                ),
                Base.metadata,
            )
        )
    assert diff == [], f"models differ from migrations; write a migration: {diff}"


async def test_database_is_at_head(engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) == migrate.head_revision()


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
async def test_downgrade_to_base_and_upgrade_again(fresh_database, backend_name: str) -> None:
    engine = create_engine(fresh_database(backend_name))  # its own database: the schema goes away
    await migrate.downgrade(engine, "base")
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    assert set(Base.metadata.tables) <= set(tables)
    await engine.dispose()
