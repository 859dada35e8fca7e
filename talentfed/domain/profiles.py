"""What a profile shows of an actor besides its record: its counts and its listed posts.

The profile page and the Mastodon client API both read them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.visibility import listed
from talentfed.storage.models import Actor, Follow, Object


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
    accepted = Follow.state == "accepted"

    async def count(query: Any) -> int:
        return int(await session.scalar(query) or 0)

    return ProfileCounts(
        followers=await count(select(func.count()).where(Follow.followed_id == actor.id, accepted)),
        following=await count(select(func.count()).where(Follow.follower_id == actor.id, accepted)),
        posts=await count(
            select(func.count()).select_from(listed_posts().where(Object.author_id == actor.id).subquery())
        ),
    )
