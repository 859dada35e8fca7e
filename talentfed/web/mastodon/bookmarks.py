"""Bookmarks through the client API: bookmark and unbookmark a status, and the member's list.
Private to the member (domain/bookmarks.py): nothing is sent to other servers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain import bookmarks
from talentfed.storage.models import Actor, Object
from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.paging import page_of
from talentfed.web.mastodon.posting import on_status
from talentfed.web.mastodon.statuses import marked_statuses


async def _bookmark(session: AsyncSession, config: Config, member: Actor, post: Object) -> None:
    await bookmarks.bookmark(session, member, post)


async def _unbookmark(session: AsyncSession, config: Config, member: Actor, post: Object) -> None:
    await bookmarks.unbookmark(session, member, post)


@scoped("read:bookmarks")
async def index(request: Request, holder: Holder) -> Response:
    """Newest bookmark first, paged by the bookmark's id."""
    page = page_of(request)
    return await marked_statuses(
        request,
        holder.viewer,
        lambda session: bookmarks.bookmarks(session, holder.member, holder.viewer, page),
    )


routes = [
    Route(
        "/api/v1/statuses/{id}/bookmark", scoped("write:bookmarks")(on_status(_bookmark)), methods=["POST"]
    ),
    Route(
        "/api/v1/statuses/{id}/unbookmark",
        scoped("write:bookmarks")(on_status(_unbookmark)),
        methods=["POST"],
    ),
    Route("/api/v1/bookmarks", index),
]
