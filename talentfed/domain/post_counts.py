"""How many replies, likes and boosts posts have, for many posts in one query; and which
of them one actor liked, boosted or bookmarked, in another."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.storage.models import Bookmark, Interaction, Object


@dataclass(frozen=True)
class PostCounts:
    replies: int = 0
    likes: int = 0
    boosts: int = 0


async def post_counts(session: AsyncSession, posts: Sequence[Object]) -> dict[int, PostCounts]:
    """Counts by post id, in one round trip. Replies count those not deleted, whoever may read
    them (as the reply count Mastodon shows)."""
    if not posts:
        return {}
    ids = [post.id for post in posts]
    id_of = {post.uri: post.id for post in posts}
    reply_counts = (
        select(literal("reply"), Object.in_reply_to_uri, literal(None), func.count())
        .where(Object.in_reply_to_uri.in_(list(id_of)), Object.deleted_at.is_(None))
        .group_by(Object.in_reply_to_uri)
    )
    reaction_counts = (
        select(Interaction.kind, literal(None), Interaction.object_id, func.count())
        .where(Interaction.object_id.in_(ids), Interaction.kind.in_(("like", "announce")))
        .group_by(Interaction.object_id, Interaction.kind)
    )
    found: dict[tuple[str, int], int] = {}
    what: str
    uri: str | None
    object_id: int | None
    count: int
    for what, uri, object_id, count in await session.execute(union_all(reply_counts, reaction_counts)):
        post_id = id_of.get(uri) if what == "reply" else object_id
        if post_id is not None:
            found[(what, post_id)] = int(count)
    return {
        post_id: PostCounts(
            replies=found.get(("reply", post_id), 0),
            likes=found.get(("like", post_id), 0),
            boosts=found.get(("announce", post_id), 0),
        )
        for post_id in ids
    }


async def reactions_of(session: AsyncSession, actor_id: int, posts: Sequence[Object]) -> set[tuple[int, str]]:
    """(post id, "like", "announce" or "bookmark") for each of `posts` the actor liked, boosted
    or bookmarked: what a signed-in reader's statuses say of them, in one round trip."""
    if not posts:
        return set()
    ids = [post.id for post in posts]
    liked_or_boosted = select(Interaction.object_id, Interaction.kind).where(
        Interaction.actor_id == actor_id,
        Interaction.object_id.in_(ids),
        Interaction.kind.in_(("like", "announce")),
    )
    kept = select(Bookmark.object_id, literal("bookmark")).where(
        Bookmark.actor_id == actor_id, Bookmark.object_id.in_(ids)
    )
    marks: set[tuple[int, str]] = set()
    object_id: int | None
    kind: str
    for object_id, kind in await session.execute(union_all(liked_or_boosted, kept)):
        if object_id is not None:
            marks.add((object_id, kind))
    return marks
