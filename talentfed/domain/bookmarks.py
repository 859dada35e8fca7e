"""Bookmarks: posts a member keeps to read again. They are the member's alone: nothing is sent
to other servers, and nobody else can tell. A member bookmarks only what they may read, and
their list shows only what they may still read (domain/visibility.py)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.paging import Page, in_order, paged
from talentfed.domain.posts import PostError
from talentfed.domain.visibility import Viewer, readable_by
from talentfed.storage.dialects import insert_or_ignore
from talentfed.storage.models import Actor, Bookmark, Object


async def bookmark(session: AsyncSession, member: Actor, post: Object) -> None:
    """Bookmark `post` (which the caller has read through domain/visibility.py); again is no
    error, and two requests at once make one bookmark."""
    if post.deleted_at is not None:
        raise PostError("post", "the post was deleted")
    await session.execute(
        insert_or_ignore(session, Bookmark, ["actor_id", "object_id"], actor_id=member.id, object_id=post.id)
    )


async def unbookmark(session: AsyncSession, member: Actor, post: Object) -> None:
    """No bookmark to remove is no error."""
    await session.execute(
        delete(Bookmark).where(Bookmark.actor_id == member.id, Bookmark.object_id == post.id)
    )


async def bookmarks(
    session: AsyncSession, member: Actor, viewer: Viewer, page: Page
) -> list[tuple[int, Object]]:
    """A page of the member's bookmarks, newest bookmark first, paged by the bookmark's id (as
    Mastodon pages them): (bookmark id, post). Deleted posts and posts `viewer` may no longer
    read (a followers-only post after an unfollow) are left out, not removed."""
    query = (
        select(Bookmark.id, Object)
        .join(Object, Object.id == Bookmark.object_id)
        .where(Bookmark.actor_id == member.id, Object.deleted_at.is_(None), readable_by(viewer))
    )
    rows = await session.execute(paged(query, Bookmark.id, page))
    return in_order([(bookmark_id, post) for bookmark_id, post in rows], page)
