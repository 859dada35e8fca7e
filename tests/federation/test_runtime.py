"""The scheduled refresh picks remote actors on either side of a follow whose copy is stale."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.federation.runtime import stale_followed_actors
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, Follow, utcnow
from tests.support.factories import actor_row


def _actor(name: str, *, local: bool = False, age: timedelta = timedelta(0)) -> Actor:
    return actor_row(name, "uni.example" if local else "far.example", local=local, fetched_at=utcnow() - age)


async def test_stale_followed_actors(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        me = _actor("me", local=True)
        follower = _actor("old_follower", age=timedelta(days=3))
        followed = _actor("old_followed", age=timedelta(days=2))
        fresh = _actor("fresh_follower", age=timedelta(hours=1))
        stranger = _actor("old_stranger", age=timedelta(days=5))
        session.add_all([me, follower, followed, fresh, stranger])
        await session.flush()
        session.add_all(
            [
                Follow(follower_id=follower.id, followed_id=me.id, state="accepted"),
                Follow(follower_id=me.id, followed_id=followed.id, state="pending"),
                Follow(follower_id=fresh.id, followed_id=me.id, state="accepted"),
            ]
        )
    uris = await stale_followed_actors(sessions, 10)
    assert uris == [follower.uri, followed.uri]  # stalest first; fresh and unrelated actors left alone
    assert await stale_followed_actors(sessions, 1) == [follower.uri]
