"""Favourites and reblogs as lists: who liked or reblogged a post, and the posts a member liked.
Read-models over `interactions` (`like` and `announce` rows, ours and other servers' alike);
what a list shows is decided by domain/visibility.py (blocked domains, readable posts)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from talentfed.domain.paging import Page, in_order, paged
from talentfed.domain.visibility import Viewer, not_hidden, readable_by
from talentfed.storage.models import Actor, Interaction, Object

REACTIONS = ("like", "announce")


def reactor_rows(post: Object, kind: str, hidden: list[str]) -> Select[Actor, Interaction]:
    """(actor, its like or reblog) of everyone who liked or reblogged `post`, in any order
    (callers page by `Interaction.id`); actors on `hidden` domains (`hidden_domains`) left out."""
    if kind not in REACTIONS:
        raise ValueError(f"expected one of {', '.join(REACTIONS)}, got {kind!r}")
    return (
        select(Actor, Interaction)
        .join(Interaction, Interaction.actor_id == Actor.id)
        .where(Interaction.object_id == post.id, Interaction.kind == kind, not_hidden(Actor, hidden))
    )


async def liked(session: AsyncSession, member: Actor, viewer: Viewer, page: Page) -> list[tuple[int, Object]]:
    """A page of the posts the member liked, newest like first, paged by the like's id (as
    Mastodon pages favourites): (like id, post). Deleted posts and posts `viewer` may no longer
    read are left out."""
    # An alias: readable_by's own subquery on `interactions` must not correlate to these rows.
    likes = aliased(Interaction)
    query = (
        select(likes.id, Object)
        .join(Object, Object.id == likes.object_id)
        .where(
            likes.actor_id == member.id,
            likes.kind == "like",
            Object.deleted_at.is_(None),
            readable_by(viewer),
        )
    )
    rows = await session.execute(paged(query, likes.id, page))
    return in_order([(like_id, post) for like_id, post in rows], page)
