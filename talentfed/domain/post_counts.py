"""How many replies, likes and boosts posts have, and which of them one actor liked, boosted or
bookmarked: each for many posts in one query, written as facts (domain/fact_rows.py) so that a
page of statuses can read both with its other counts in one round trip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.fact_rows import Fact, fact, read_facts
from talentfed.storage.models import Bookmark, Interaction, Object


@dataclass(frozen=True)
class PostCounts:
    replies: int = 0
    likes: int = 0
    boosts: int = 0


COUNTED = ("like", "announce")


def post_count_facts(posts: Sequence[Object]) -> list[Select[Any]]:
    """The queries of `post_counts`. Replies count those not deleted, whoever may read them (as
    the reply count Mastodon shows)."""
    if not posts:
        return []
    replies = (
        fact("reply", text=Object.in_reply_to_uri, number=func.count())
        .where(Object.in_reply_to_uri.in_([post.uri for post in posts]), Object.deleted_at.is_(None))
        .group_by(Object.in_reply_to_uri)
    )
    reactions = (
        fact("reactions", id=Interaction.object_id, text=Interaction.kind, number=func.count())
        .where(Interaction.object_id.in_([post.id for post in posts]), Interaction.kind.in_(COUNTED))
        .group_by(Interaction.object_id, Interaction.kind)
    )
    return [replies, reactions]


def post_counts_from(posts: Sequence[Object], facts: Sequence[Fact]) -> dict[int, PostCounts]:
    """Counts by post id, from the rows of `post_count_facts` (among others)."""
    id_of = {post.uri: post.id for post in posts}
    found: dict[tuple[str, int], int] = {}
    for row in facts:
        if row.what == "reply" and row.text in id_of:
            found[("reply", id_of[row.text])] = int(row.number or 0)
        elif row.what == "reactions" and row.id is not None and row.text is not None:
            found[(row.text, row.id)] = int(row.number or 0)
    return {
        post.id: PostCounts(
            replies=found.get(("reply", post.id), 0),
            likes=found.get(("like", post.id), 0),
            boosts=found.get(("announce", post.id), 0),
        )
        for post in posts
    }


async def post_counts(session: AsyncSession, posts: Sequence[Object]) -> dict[int, PostCounts]:
    """Counts by post id, in one round trip."""
    return post_counts_from(posts, await read_facts(session, post_count_facts(posts)))


def reaction_facts(actor_id: int, posts: Sequence[Object]) -> list[Select[Any]]:
    """The queries of `reactions_of`."""
    if not posts:
        return []
    ids = [post.id for post in posts]
    liked_or_boosted = fact("marked", id=Interaction.object_id, text=Interaction.kind).where(
        Interaction.actor_id == actor_id, Interaction.object_id.in_(ids), Interaction.kind.in_(COUNTED)
    )
    kept = fact("marked", id=Bookmark.object_id, text="bookmark").where(
        Bookmark.actor_id == actor_id, Bookmark.object_id.in_(ids)
    )
    return [liked_or_boosted, kept]


def reactions_from(facts: Sequence[Fact]) -> set[tuple[int, str]]:
    """(post id, "like", "announce" or "bookmark"), from the rows of `reaction_facts` (among others)."""
    return {(row.id, row.text) for row in facts if row.what == "marked" and row.id is not None and row.text}


async def reactions_of(session: AsyncSession, actor_id: int, posts: Sequence[Object]) -> set[tuple[int, str]]:
    """(post id, "like", "announce" or "bookmark") for each of `posts` the actor liked, boosted
    or bookmarked: what a signed-in reader's statuses say of them, in one round trip."""
    return reactions_from(await read_facts(session, reaction_facts(actor_id, posts)))
