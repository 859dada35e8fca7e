"""Pages of rows by id, as Mastodon's API pages them: `max_id`, `since_id`, `min_id`, `limit`.

Ids are our row ids, so "newer" is "larger". `min_id` pages forward from an id (read oldest
first, answered newest first); `since_id` keeps the newest after an id.

Timelines that mix posts and reblogs (domain/timelines.py) page by `Position`: the ids of posts
and of reblogs are rows of two tables, in two ranges that say nothing of which came first, so an
id an app pages from (`StatusRef`) is first turned into the place its status holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from talentfed.storage.models import MAX_ROW_ID

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


@dataclass(frozen=True)
class Page:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def asked(cls, max_id: int | None, since_id: int | None, min_id: int | None, limit: int) -> Page:
        """The page a client asks for by ids that may lie beyond every row id, which PostgreSQL
        would refuse in a query: a `max_id` beyond them bounds nothing, and nothing is newer
        than a `since_id` or `min_id` beyond them."""
        return cls(
            max_id if max_id is not None and max_id <= MAX_ROW_ID else None,
            min(since_id, MAX_ROW_ID) if since_id is not None else None,
            min(min_id, MAX_ROW_ID) if min_id is not None else None,
            limit,
        )


def paged(query: Select[*tuple[Any, ...]], column: Any, page: Page) -> Select[*tuple[Any, ...]]:
    """`query` limited to the page, newest first (oldest first with min_id: see `in_order`)."""
    if page.max_id is not None:
        query = query.where(column < page.max_id)
    if page.since_id is not None:
        query = query.where(column > page.since_id)
    if page.min_id is not None:
        return query.where(column > page.min_id).order_by(column.asc()).limit(page.limit)
    return query.order_by(column.desc()).limit(page.limit)


def in_order(rows: Sequence[Any], page: Page) -> list[Any]:
    """Rows newest first, whichever way `paged` read them."""
    return list(reversed(rows)) if page.min_id is not None else list(rows)


@dataclass(frozen=True, order=True)
class Position:
    """Where a status falls in a timeline of posts and reblogs, in the order they arrived: a post
    at (its id, 0); a reblog at (the newest post's id when it was made, its row id), so just
    after that post and before the next one, reblogs made between two posts in their order."""

    post_id: int
    reblog_id: int = 0


@dataclass(frozen=True)
class StatusRef:
    """An id an app pages from in such a timeline: a post's row, or a reblog's row in
    `interactions` (`reblog`). Which status ids name reblogs is the client API's business."""

    id: int
    reblog: bool = False


@dataclass(frozen=True)
class TimelinePage:
    """`Page`, for a timeline of posts and reblogs."""

    max_id: StatusRef | None = None
    since_id: StatusRef | None = None
    min_id: StatusRef | None = None
    limit: int = DEFAULT_LIMIT
