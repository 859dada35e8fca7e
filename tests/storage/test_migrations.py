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


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
async def test_0007_forgets_remote_links_that_are_not_http(fresh_database, backend_name: str) -> None:
    from sqlalchemy import text

    engine = create_engine(fresh_database(backend_name))
    await migrate.downgrade(engine, "0006")
    insert = (
        "INSERT INTO actors (uri, type, username, domain, local, inbox_url, url, icon_url, "
        "skills, fields, discoverable, indexable, manually_approves_followers, open_to_collaboration, "
        "created_at, updated_at) VALUES (:uri, 'Person', :name, 'evil.example', :local, :uri, :url, "
        ":icon, '[]', '[]', false, false, false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    async with engine.begin() as connection:
        for name, local, url in (
            ("bad", False, "javascript:alert(1)"),
            ("loud", False, "HTTPS://evil.example/@loud"),
            ("ours", True, "javascript:kept-for-local"),
        ):
            uri = f"https://evil.example/users/{name}"
            await connection.execute(
                text(insert), {"uri": uri, "name": name, "local": local, "url": url, "icon": "data:,x"}
            )
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        rows = dict(
            (name, (url, icon))
            for name, url, icon in await connection.execute(
                text("SELECT username, url, icon_url FROM actors")
            )
        )
    await engine.dispose()
    assert rows == {
        "bad": (None, None),
        "loud": ("HTTPS://evil.example/@loud", None),
        "ours": ("javascript:kept-for-local", "data:,x"),
    }


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
async def test_0020_marks_posts_edited_when_their_last_edit_was(fresh_database, backend_name: str) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text

    from talentfed.storage.db import session_factory
    from talentfed.storage.models import PostEdit
    from tests.support.factories import post_row, remote_actor

    engine = create_engine(fresh_database(backend_name))
    first, last = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    async with session_factory(engine)() as session, session.begin():
        author = remote_actor("kim", "kim.example")
        session.add(author)
        await session.flush()
        edited, untouched = post_row(author, "edited"), post_row(author, "untouched")
        session.add_all([edited, untouched])
        await session.flush()
        session.add_all([PostEdit(object_id=edited.id, content="v1", replaced_at=at) for at in (last, first)])
    await migrate.downgrade(engine, "0019")
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        rows = dict(
            (uri.rsplit("/", 1)[-1], at)
            for uri, at in await connection.execute(text("SELECT uri, edited_at FROM objects"))
        )
    await engine.dispose()
    assert rows["untouched"] is None
    # SQLite hands the column back as text, PostgreSQL as a timestamp: compare the moment.
    stored = (
        rows["edited"] if isinstance(rows["edited"], datetime) else datetime.fromisoformat(rows["edited"])
    )
    assert stored.replace(tzinfo=UTC) == last


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
async def test_0024_keeps_the_first_of_each_duplicate_like_and_boost(
    fresh_database, backend_name: str
) -> None:
    """A node that stored a like twice before the unique index upgrades: the first row stays."""
    from sqlalchemy import select

    from talentfed.storage.db import session_factory
    from talentfed.storage.models import Interaction
    from tests.support.factories import post_row, remote_actor

    engine = create_engine(fresh_database(backend_name))
    await migrate.downgrade(engine, "0023")
    async with session_factory(engine)() as session, session.begin():
        kim, lee = remote_actor("kim", "kim.example"), remote_actor("lee", "lee.example")
        session.add_all([kim, lee])
        await session.flush()
        post, other = post_row(kim, "post"), post_row(kim, "other")
        session.add_all([post, other])
        await session.flush()
        edges = [
            ("like", lee, post),  # kept: the first of three
            ("like", lee, post),
            ("announce", lee, post),  # kept: another kind
            ("like", lee, post),
            ("like", kim, post),  # kept: another actor
            ("like", lee, other),  # kept: another post
            ("announce", lee, post),
            ("reply", lee, post),  # replies and mentions are not counted once: both kept
            ("reply", lee, post),
        ]
        for number, (kind, actor, target) in enumerate(edges):
            session.add(
                Interaction(
                    kind=kind,
                    actor_id=actor.id,
                    object_id=target.id,
                    activity_uri=f"https://lee.example/activities/{number}",
                )
            )
            await session.flush()  # in this order, as they arrived
    await migrate.upgrade(engine)
    async with session_factory(engine)() as session:
        kept = await session.scalars(select(Interaction.activity_uri).order_by(Interaction.id))
        kept_numbers = [int(uri.rsplit("/", 1)[-1]) for uri in kept]
    await engine.dispose()
    assert kept_numbers == [0, 2, 4, 5, 7, 8]
