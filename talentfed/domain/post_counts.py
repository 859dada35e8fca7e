"""How many replies, likes and boosts posts have, for many posts in three queries; and which
of them one actor liked or boosted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.storage.models import Interaction, Object


@dataclass(frozen=True)
class PostCounts:
    replies: int = 0
    likes: int = 0
    boosts: int = 0


async def post_counts(session: AsyncSession, posts: Sequence[Object]) -> dict[int, PostCounts]:
    """Counts by post id. Replies count those not deleted, whoever may read them (as the
    reply count Mastodon shows)."""
    if not posts:
        return {}
    ids = [post.id for post in posts]
    by_uri = {post.uri: post.id for post in posts}
    replies = dict(
        (by_uri[uri], count)
        for uri, count in await session.execute(
            select(Object.in_reply_to_uri, func.count())
            .where(Object.in_reply_to_uri.in_(list(by_uri)), Object.deleted_at.is_(None))
            .group_by(Object.in_reply_to_uri)
        )
        if uri in by_uri
    )
    reactions: dict[tuple[int | None, str], int] = {
        (object_id, kind): count
        for object_id, kind, count in await session.execute(
            select(Interaction.object_id, Interaction.kind, func.count())
            .where(Interaction.object_id.in_(ids), Interaction.kind.in_(("like", "announce")))
            .group_by(Interaction.object_id, Interaction.kind)
        )
    }
    return {
        post_id: PostCounts(
            replies=replies.get(post_id, 0),
            likes=reactions.get((post_id, "like"), 0),
            boosts=reactions.get((post_id, "announce"), 0),
        )
        for post_id in ids
    }


async def reactions_of(session: AsyncSession, actor_id: int, posts: Sequence[Object]) -> set[tuple[int, str]]:
    """(post id, "like" or "announce") for each of `posts` the actor liked or boosted."""
    if not posts:
        return set()
    rows = await session.execute(
        select(Interaction.object_id, Interaction.kind).where(
            Interaction.actor_id == actor_id,
            Interaction.object_id.in_([post.id for post in posts]),
            Interaction.kind.in_(("like", "announce")),
        )
    )
    return {(object_id, kind) for object_id, kind in rows if object_id is not None}
