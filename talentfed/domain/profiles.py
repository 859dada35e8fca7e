"""What a profile shows of an actor besides its record: its counts and its listed posts.

The profile page and the Mastodon client API both read them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, literal, select, union_all
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
    """`profile_counts` of many actors in one round trip (a page of statuses has many authors,
    and apps ask for pages often): three grouped counts, told apart by a tag column."""
    ids = list({actor.id for actor in actors})
    if not ids:
        return {}
    accepted = Follow.state == "accepted"
    listed_ids = listed_posts().where(Object.author_id.in_(ids)).subquery()
    counts = union_all(
        select(literal("followers"), Follow.followed_id, func.count())
        .where(Follow.followed_id.in_(ids), accepted)
        .group_by(Follow.followed_id),
        select(literal("following"), Follow.follower_id, func.count())
        .where(Follow.follower_id.in_(ids), accepted)
        .group_by(Follow.follower_id),
        select(literal("posts"), listed_ids.c.author_id, func.count()).group_by(listed_ids.c.author_id),
    )
    found: dict[tuple[str, int], int] = {
        (what, actor_id): int(count) for what, actor_id, count in await session.execute(counts)
    }
    return {
        actor_id: ProfileCounts(
            followers=found.get(("followers", actor_id), 0),
            following=found.get(("following", actor_id), 0),
            posts=found.get(("posts", actor_id), 0),
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
