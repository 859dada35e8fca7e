"""What is written stays written: across engine restarts, with constraints enforced on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import create_engine, session_factory
from talentfed.storage.models import Activity, Actor, DeliveryJob, Follow, Object
from tests.support.factories import local_actor_row, remote_actor


async def test_data_survives_a_restart(db_url: str) -> None:
    first = create_engine(db_url)
    async with session_factory(first)() as session, session.begin():
        alice = local_actor_row("alice", skills=["nlp"])
        session.add(alice)
        await session.flush()
        deadline = datetime(2027, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
        session.add(
            Object(
                uri="https://uni.example/objects/1",
                type="Note",
                kind="project",
                author_id=alice.id,
                content="<p>hi</p>",
                skills=["rust"],
                status="open",
                deadline=deadline,
                extra={"teamSize": 3},
            )
        )
    await first.dispose()

    second = create_engine(db_url)
    async with session_factory(second)() as session:
        post = await session.scalar(select(Object))
        assert post is not None
        assert post.skills == ["rust"] and post.extra == {"teamSize": 3}
        # Stored and read back as the same instant, in UTC, on both backends.
        assert post.deadline == datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
        assert post.deadline.tzinfo is not None
        author = await session.get(Actor, post.author_id)
        assert author is not None and author.handle == "alice@uni.example"
    await second.dispose()


async def test_foreign_keys_are_enforced_and_cascade(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        alice, bob = (
            local_actor_row("alice", skills=["nlp"]),
            remote_actor("bob", "other.example", skills=["nlp"]),
        )
        session.add_all([alice, bob])
        await session.flush()
        session.add(Follow(follower_id=bob.id, followed_id=alice.id, state="accepted"))
        activity = Activity(
            uri="https://uni.example/activities/1",
            type="Create",
            actor_uri=alice.uri,
            document={"type": "Create"},
            local=True,
        )
        session.add(activity)
        await session.flush()
        session.add(
            DeliveryJob(
                activity_id=activity.id,
                signer_id=alice.id,
                inbox_url="https://other.example/inbox",
                host="other.example",
            )
        )

    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            session.add(Follow(follower_id=999_999, followed_id=alice.id))

    async with sessions() as session, session.begin():
        await session.delete(await session.get(Actor, bob.id))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Follow)) == 0
        assert await session.scalar(select(func.count()).select_from(DeliveryJob)) == 1


async def test_duplicate_activity_id_is_refused(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    document = {"type": "Like"}
    async with sessions() as session, session.begin():
        session.add(
            Activity(
                uri="https://x.example/a/1", type="Like", actor_uri="https://x.example/u", document=document
            )
        )
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            session.add(
                Activity(
                    uri="https://x.example/a/1",
                    type="Like",
                    actor_uri="https://x.example/u",
                    document=document,
                )
            )


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(fresh_database) -> None:
    engine = create_engine(fresh_database("sqlite"))
    async with engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    await engine.dispose()


async def test_naive_datetimes_are_refused(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        session.add(local_actor_row("carol", skills=["nlp"]))
        await session.flush()
        session.add(
            Object(
                uri="https://uni.example/objects/2",
                type="Note",
                kind="note",
                author_id=1,
                published=datetime(2026, 1, 1),
            )
        )
        with pytest.raises(Exception, match="naive datetime"):
            await session.flush()
