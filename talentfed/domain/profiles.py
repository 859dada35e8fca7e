"""What a profile shows of an actor besides its record: its counts and its listed posts.

The profile page and the Mastodon client API both read them here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.fact_rows import Fact, fact, read_facts
from talentfed.domain.visibility import listed
from talentfed.storage.models import Actor, Follow, Object
from talentfed.text import normalize_skill


@dataclass(frozen=True)
class ProfileCounts:
    followers: int
    following: int
    posts: int  # listed (public) posts, as anyone may see them


def listed_posts(*kinds: str) -> Select[Object]:
    """Visible, public posts of the given kinds (all kinds when none are named)."""
    query = select(Object).where(Object.deleted_at.is_(None), listed())
    return query.where(Object.kind.in_(kinds)) if kinds else query


async def profile_counts(session: AsyncSession, actor: Actor) -> ProfileCounts:
    """Accepted follows each way, and listed posts."""
    return (await profile_counts_of(session, [actor]))[actor.id]


def profile_count_facts(actor_ids: Collection[int]) -> list[Select[Any]]:
    """The queries of `profile_counts_of` (domain/fact_rows.py): three grouped counts."""
    ids = list(actor_ids)
    if not ids:
        return []
    accepted = Follow.state == "accepted"
    listed_ids = listed_posts().where(Object.author_id.in_(ids)).subquery()
    return [
        fact("followers", id=Follow.followed_id, number=func.count())
        .where(Follow.followed_id.in_(ids), accepted)
        .group_by(Follow.followed_id),
        fact("following", id=Follow.follower_id, number=func.count())
        .where(Follow.follower_id.in_(ids), accepted)
        .group_by(Follow.follower_id),
        fact("posts", id=listed_ids.c.author_id, number=func.count()).group_by(listed_ids.c.author_id),
    ]


def profile_counts_from(actor_ids: Collection[int], facts: Sequence[Fact]) -> dict[int, ProfileCounts]:
    """Counts by actor id, from the rows of `profile_count_facts` (among others)."""
    found = {
        (row.what, row.id): int(row.number or 0)
        for row in facts
        if row.what in ("followers", "following", "posts")
    }
    return {
        actor_id: ProfileCounts(
            followers=found.get(("followers", actor_id), 0),
            following=found.get(("following", actor_id), 0),
            posts=found.get(("posts", actor_id), 0),
        )
        for actor_id in actor_ids
    }


async def profile_counts_of(session: AsyncSession, actors: Sequence[Actor]) -> dict[int, ProfileCounts]:
    """`profile_counts` of many actors in one round trip (a page of statuses has many authors,
    and apps ask for pages often)."""
    ids = {actor.id for actor in actors}
    return profile_counts_from(ids, await read_facts(session, profile_count_facts(ids)))


RECENT_POSTS = 40  # how far back suggestions of tags look


async def recent_tags(session: AsyncSession, actor: Actor, *, limit: int = 10) -> list[str]:
    """The hashtags and skills of the actor's latest posts, newest first, that are not among
    the actor's own skills: what the client API suggests featuring."""
    rows = await session.execute(
        select(Object.tags, Object.skills)
        .where(Object.author_id == actor.id, Object.deleted_at.is_(None))
        .order_by(Object.published.desc())
        .limit(RECENT_POSTS)
    )
    used = (normalize_skill(name) for tags, skills in rows for name in [*(tags or []), *(skills or [])])
    featured = set(actor.skills or [])
    return [name for name in dict.fromkeys(used) if name and name not in featured][:limit]
