"""Timelines: which posts a member sees, newest first, a page at a time.

The home timeline is what apps poll most, so it is read in two steps. Most pages are near the
top, where the posts of the accounts a member follows are dense: there the newest rows are read
in id order and filtered, which stops after a page's worth (step 1). Deeper or sparse pages fall
back to the query that starts from the followed accounts' posts (step 2). Databases plan the
single query the second way even when the first is far cheaper, so the split is made here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.paging import Page, in_order, paged
from talentfed.domain.visibility import Viewer, readable_by
from talentfed.storage.models import Actor, Follow, Object

# How many of the newest rows step 1 may read before it gives way to step 2.
RECENT_WINDOW = 2_000


def _home_condition(member: Actor, viewer: Viewer, author: Any) -> ColumnElement[bool]:
    followed = select(Follow.followed_id).where(Follow.follower_id == member.id, Follow.state == "accepted")
    return Object.deleted_at.is_(None) & readable_by(viewer) & or_(author == member.id, author.in_(followed))


async def home(session: AsyncSession, member: Actor, viewer: Viewer, page: Page) -> list[Object]:
    """The member's own posts and those of the accounts they follow that `viewer` may read."""
    if page.min_id is None:
        recent = await _recent_home(session, member, viewer, page)
        if recent is not None:
            return recent
    query = select(Object).where(_home_condition(member, viewer, Object.author_id))
    return in_order(list(await session.scalars(paged(query, Object.id, page))), page)


async def _recent_home(
    session: AsyncSession, member: Actor, viewer: Viewer, page: Page
) -> list[Object] | None:
    """Step 1: a full page from the newest RECENT_WINDOW rows under the page's top, else None.

    `+author_id` (a no-op in SQL) keeps the database from planning through the author index,
    so it reads rows in id order and stops at the page's end."""
    author: ColumnElement[int] = literal_column("+objects.author_id")
    # The newest page's top is read in the same statement, not a round trip of its own.
    top: Any = page.max_id
    if top is None:
        top = select(func.coalesce(func.max(Object.id), 0) + 1).scalar_subquery()
    query = select(Object).where(_home_condition(member, viewer, author), Object.id >= top - RECENT_WINDOW)
    rows = list(await session.scalars(paged(query, Object.id, page)))  # page.min_id is None here
    if len(rows) == page.limit:
        return rows
    if page.max_id is None:
        top = await session.scalar(select(func.coalesce(func.max(Object.id), 0) + 1))
    window_reaches_since = page.since_id is not None and page.since_id >= top - RECENT_WINDOW
    return rows if window_reaches_since or top - RECENT_WINDOW <= 1 else None
