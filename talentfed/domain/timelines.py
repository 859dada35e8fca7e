"""Timelines: which posts and reblogs a member sees, newest first, a page at a time.

**Posts.** The home timeline is what apps poll most, so its posts are read in two steps. Most
pages are near the top, where the posts of the accounts a member follows are dense: there the
newest rows are read in id order and filtered, which stops after a page's worth (step 1). Deeper
or sparse pages fall back to the query that starts from the followed accounts' posts (step 2).
Databases plan the single query the second way even when the first is far cheaper, so the split
is made here.

**Reblogs** (`announce` rows of `interactions`) are interleaved with the posts in the order both
arrived (`paging.Position`): a reblog comes after the newest post stored when it was made
(`Interaction.after_post_id`). A page reads its posts as above, then only the reblogs that fall
within those posts' range (an index range on `after_post_id`), and merges the two. A reblog is
shown to whoever may read the post it reblogs (domain/visibility.py). Within a page each post
shows once: itself when the page holds it, else its oldest reblog there (Mastodon too leaves
out a reblog of a post the timeline shows near it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from talentfed.domain.media import with_media
from talentfed.domain.paging import Page, Position, StatusRef, TimelinePage, in_order, paged
from talentfed.domain.visibility import Viewer, readable_by, wanted_by
from talentfed.storage.models import Actor, Follow, Interaction, Object

# How many of the newest rows step 1 may read before it gives way to step 2.
RECENT_WINDOW = 2_000


@dataclass(frozen=True)
class Reblog:
    """A reblog in a timeline: the `announce` row and the post it reblogs."""

    boost: Interaction
    post: Object


TimelineItem = Object | Reblog


def position_of(item: TimelineItem) -> Position:
    if isinstance(item, Reblog):
        return Position(item.boost.after_post_id or 0, item.boost.id)
    return Position(item.id, 0)


# --- the home timeline -----------------------------------------------------------------------


async def home(
    session: AsyncSession, member: Actor, viewer: Viewer, page: TimelinePage
) -> list[TimelineItem]:
    """The member's own posts and reblogs and those of the accounts they follow, that `viewer`
    may read; nothing by, nor reblogged by, an account the member does not want to see
    (`visibility.wanted_by`: blocks and mutes)."""
    bounds = await _bounds(session, page)
    posts = await _home_posts(session, member, viewer, bounds.posts_page())
    return await _with_reblogs(
        session,
        viewer,
        bounds,
        posts,
        lambda boosts: and_(
            or_(boosts.actor_id == member.id, boosts.actor_id.in_(_followed(member))),
            wanted_by(member.id, boosts.actor_id),
            wanted_by(member.id),
        ),
    )


def _followed(member: Actor) -> Any:
    return select(Follow.followed_id).where(Follow.follower_id == member.id, Follow.state == "accepted")


def _home_condition(member: Actor, viewer: Viewer, author: Any) -> ColumnElement[bool]:
    return (
        Object.deleted_at.is_(None)
        & readable_by(viewer)
        & or_(author == member.id, author.in_(_followed(member)))
        & wanted_by(member.id, author)
    )


async def _home_posts(session: AsyncSession, member: Actor, viewer: Viewer, page: Page) -> list[Object]:
    """The posts of a home page, newest first."""
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


# --- statuses by id -------------------------------------------------------------------------


async def readable(session: AsyncSession, viewer: Viewer, refs: Sequence[StatusRef]) -> list[TimelineItem]:
    """The posts and reblogs `refs` name that `viewer` may read, in the order asked; those that
    do not exist (any more) or that `viewer` may not read are left out."""
    post_ids = [ref.id for ref in refs if not ref.reblog]
    reblog_ids = [ref.id for ref in refs if ref.reblog]
    posts: dict[int, TimelineItem] = {}
    if post_ids:
        query = select(Object).where(
            Object.id.in_(post_ids), Object.deleted_at.is_(None), readable_by(viewer)
        )
        posts = {post.id: post for post in await session.scalars(query)}
    reblogs: dict[int, TimelineItem] = {}
    if reblog_ids:
        boosts, of_readable = _readable_reblogs(viewer)
        rows = await session.execute(of_readable.where(boosts.id.in_(reblog_ids)))
        reblogs = {boost.id: Reblog(boost, post) for boost, post in rows}
    found = ((reblogs if ref.reblog else posts).get(ref.id) for ref in refs)
    return [item for item in found if item is not None]


# --- an account's statuses -------------------------------------------------------------------


@dataclass(frozen=True)
class AccountFilter:
    """Mastodon's filters of an account's statuses: pinned ones only, those with media, no
    replies, no reblogs. Only its own posts are pinned or have media: those leave reblogs out."""

    pinned: bool = False
    only_media: bool = False
    exclude_replies: bool = False
    exclude_reblogs: bool = False

    @property
    def reblogs(self) -> bool:
        return not (self.pinned or self.only_media or self.exclude_reblogs)


async def account(
    session: AsyncSession, author: Actor, viewer: Viewer, page: TimelinePage, only: AccountFilter
) -> list[TimelineItem]:
    """An account's posts and reblogs that `viewer` may read, newest first."""
    bounds = await _bounds(session, page)
    query = select(Object).where(
        Object.author_id == author.id, Object.deleted_at.is_(None), readable_by(viewer)
    )
    if only.only_media:
        query = query.where(with_media())
    if only.exclude_replies:
        query = query.where(Object.in_reply_to_uri.is_(None))
    if only.pinned:
        query = query.where(Object.pinned.is_(True))
    posts_page = bounds.posts_page()
    posts = in_order(list(await session.scalars(paged(query, Object.id, posts_page))), posts_page)
    if not only.reblogs:
        return list(posts)
    return await _with_reblogs(session, viewer, bounds, posts, lambda boosts: boosts.actor_id == author.id)


# --- paging posts and reblogs together -------------------------------------------------------


@dataclass(frozen=True)
class _Bounds:
    """A TimelinePage with its ids resolved to positions."""

    below: Position | None  # max_id
    since: Position | None
    above: Position | None  # min_id: read forward from here
    limit: int

    def posts_page(self) -> Page:
        """The same bounds on post ids: a post is older than a reblog at its own position."""
        below = None if self.below is None else self.below.post_id + (1 if self.below.reblog_id else 0)
        since = self.since.post_id if self.since is not None else None
        above = self.above.post_id if self.above is not None else None
        return Page(max_id=below, since_id=since, min_id=above, limit=self.limit)


async def _bounds(session: AsyncSession, page: TimelinePage) -> _Bounds:
    refs = (page.max_id, page.since_id, page.min_id)
    below, since, above = [await _position(session, ref) if ref is not None else None for ref in refs]
    return _Bounds(below, since, above, page.limit)


async def _position(session: AsyncSession, ref: StatusRef) -> Position:
    """Where the status an app names falls; a reblog undone since falls where the row before
    it does (rows are in the order they were written)."""
    if not ref.reblog:
        return Position(ref.id, 0)
    after = await session.scalar(
        select(Interaction.after_post_id)
        .where(Interaction.id <= ref.id, Interaction.after_post_id.is_not(None))
        .order_by(Interaction.id.desc())
        .limit(1)
    )
    return Position(after or 0, ref.id)


def _after(boosts: Any, position: Position) -> ColumnElement[bool]:
    return or_(
        boosts.after_post_id > position.post_id,
        and_(boosts.after_post_id == position.post_id, boosts.id > position.reblog_id),
    )


def _before(boosts: Any, position: Position) -> ColumnElement[bool]:
    return or_(
        boosts.after_post_id < position.post_id,
        and_(boosts.after_post_id == position.post_id, boosts.id < position.reblog_id),
    )


Boosters = Callable[[Any], ColumnElement[bool]]  # whose reblogs, as a condition on (an alias of) Interaction


async def _with_reblogs(
    session: AsyncSession, viewer: Viewer, bounds: _Bounds, posts: Sequence[Object], boosters: Boosters
) -> list[TimelineItem]:
    """`posts` (a page of posts, newest first) merged with the reblogs of `boosters` that fall
    within the same bounds, cut to the page's length, newest first."""
    forward = bounds.above is not None
    # A full page of posts ends the page: reblogs beyond its last post cannot be in it.
    last = (posts[0] if forward else posts[-1]) if len(posts) == bounds.limit else None
    reblogs = await _reblogs(session, viewer, bounds, boosters, None if last is None else last.id)
    candidates: list[TimelineItem] = [*posts, *reblogs]
    merged = sorted(candidates, key=position_of, reverse=not forward)[: bounds.limit]
    return _once_each(merged if not forward else merged[::-1])


def _once_each(items: list[TimelineItem]) -> list[TimelineItem]:
    """Each post once in a page (newest first): itself if the page holds it, else its oldest
    reblog. A reblog is always newer than its post, so what is left out never ends a page."""
    posts = {item.id for item in items if isinstance(item, Object)}
    shown: set[int] = set()
    kept: list[TimelineItem] = []
    for item in reversed(items):  # oldest first: the first reblog of a post met is its oldest
        if isinstance(item, Reblog):
            if item.post.id in posts or item.post.id in shown:
                continue
            shown.add(item.post.id)
        kept.append(item)
    return kept[::-1]


def _readable_reblogs(viewer: Viewer) -> tuple[Any, Select[Interaction, Object]]:
    """(the alias of `interactions` it reads, a query of (reblog, post)) for the reblogs of
    posts `viewer` may read."""
    # An alias: readable_by's own subquery on `interactions` must not correlate to these rows.
    boosts = aliased(Interaction)
    query = (
        select(boosts, Object)
        .join(Object, Object.id == boosts.object_id)
        .where(boosts.kind == "announce", Object.deleted_at.is_(None), readable_by(viewer))
    )
    return boosts, query


async def _reblogs(
    session: AsyncSession, viewer: Viewer, bounds: _Bounds, boosters: Boosters, last_post: int | None
) -> list[Reblog]:
    """The reblogs of `boosters` within the page's bounds, in reading order; with `last_post`,
    only those before it (reading forward) or after it."""
    boosts, query = _readable_reblogs(viewer)
    query = query.where(boosters(boosts))
    if bounds.below is not None:
        query = query.where(_before(boosts, bounds.below))
    for lower in (bounds.since, bounds.above):
        if lower is not None:
            query = query.where(_after(boosts, lower))
    forward = bounds.above is not None
    if last_post is not None:
        query = query.where(
            boosts.after_post_id < last_post if forward else boosts.after_post_id >= last_post
        )
    columns = (boosts.after_post_id, boosts.id)
    order = [column.asc() if forward else column.desc() for column in columns]
    rows = await session.execute(query.order_by(*order).limit(bounds.limit))
    return [Reblog(boost, post) for boost, post in rows]
