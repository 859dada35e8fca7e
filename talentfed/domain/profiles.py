"""What a profile shows of an actor besides its record: its counts and its listed posts.

The profile page and the Mastodon client API both read them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

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


async def profile_counts_of(session: AsyncSession, actors: Sequence[Actor]) -> dict[int, ProfileCounts]:
    """`profile_counts` of many actors in three grouped queries (a page of statuses has many
    authors, and apps ask for pages often)."""
    ids = list({actor.id for actor in actors})
    if not ids:
        return {}
    accepted = Follow.state == "accepted"

    async def grouped(column: Any, query: Any) -> dict[int, int]:
        return {key: int(count) for key, count in await session.execute(query.group_by(column))}

    followers = await grouped(
        Follow.followed_id,
        select(Follow.followed_id, func.count()).where(Follow.followed_id.in_(ids), accepted),
    )
    following = await grouped(
        Follow.follower_id,
        select(Follow.follower_id, func.count()).where(Follow.follower_id.in_(ids), accepted),
    )
    listed_ids = listed_posts().where(Object.author_id.in_(ids)).subquery()
    posts = await grouped(
        listed_ids.c.author_id, select(listed_ids.c.author_id, func.count()).select_from(listed_ids)
    )
    return {
        actor_id: ProfileCounts(
            followers=followers.get(actor_id, 0),
            following=following.get(actor_id, 0),
            posts=posts.get(actor_id, 0),
        )
        for actor_id in ids
    }


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
