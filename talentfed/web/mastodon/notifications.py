"""Notifications through the client API: Mastodon's Notification entities over the read model
of domain/notifications.py (no query of notifications is written here), dismiss, clear and the
unread count. The grouped notifications (API v2) are `grouped_notifications`, on the same helpers.

Ids are the notifications' keys (`NotificationKey.id`): stable, and ordered as their times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain import notifications as model
from talentfed.domain.markers import notifications_read_up_to
from talentfed.domain.notifications import Notification, NotificationKey, Selection
from talentfed.domain.visibility import Viewer, readable_by
from talentfed.storage.models import Actor, Object
from talentfed.web.mastodon.accounts import accounts_json
from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.entities import notification
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError, found
from talentfed.web.mastodon.paging import limit_of, links_between
from talentfed.web.mastodon.params import query_list, row_id
from talentfed.web.mastodon.statuses import statuses_json

DEFAULT_LIMIT, MAX_LIMIT = 40, 80  # Mastodon's, for notifications
DEFAULT_COUNT_LIMIT, MAX_COUNT_LIMIT = 100, 1000  # Mastodon's, for unread counts


def _key_param(request: Request, name: str) -> NotificationKey | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    key = NotificationKey.parse(raw)
    if key is None:
        raise MastodonError(422, f"{name} must be a notification id")
    return key


def kinds_of(request: Request, name: str) -> frozenset[str]:
    """Our kinds that a list of Mastodon's types (`types[]`, `grouped_types[]`…) names."""
    return model.kinds_of_types(query_list(request, name))


def _kinds(request: Request) -> frozenset[str] | None:
    """Our kinds that `types[]` and `exclude_types[]` leave (None: all of them)."""
    if not query_list(request, "types") and not query_list(request, "exclude_types"):
        return None
    kinds = kinds_of(request, "types") if query_list(request, "types") else frozenset(model.KINDS)
    return kinds - kinds_of(request, "exclude_types")


def selection_of(request: Request) -> Selection | None:
    """The notifications a request asks for: `types[]`, `exclude_types[]`, `account_id`, and
    `max_id`/`since_id`/`min_id` (notification ids; 422 for others). None when `account_id`
    names no account: nothing is from it, as on Mastodon."""
    account = request.query_params.get("account_id", "")
    if account and row_id(account) is None:
        return None
    newer = [key for key in (_key_param(request, "since_id"), _key_param(request, "min_id")) if key]
    return Selection(
        kinds=_kinds(request),
        from_actor_id=int(account) if account else None,
        older_than=_key_param(request, "max_id"),
        newer_than=max(newer) if newer else None,
    )


def pages_forward(request: Request) -> bool:
    """`min_id` pages forward from an id: read oldest first, answered newest first."""
    return request.query_params.get("min_id") not in (None, "")


def status_post_id(item: Notification) -> int | None:
    """The status a notification shows: the reply itself (a mention, for Mastodon), else the
    post concerned (the member's post liked or reblogged, or the post mentioning them)."""
    if item.reply_id is not None:
        return item.reply_id
    return item.post.id if item.post is not None else None


async def statuses_by_post(
    session: AsyncSession, config: Config, viewer: Viewer, post_ids: Iterable[int | None]
) -> dict[int, dict[str, Any]]:
    """Statuses of the posts the member may read, by post id."""
    wanted = {post_id for post_id in post_ids if post_id is not None}
    if not wanted:
        return {}
    query = select(Object).where(Object.id.in_(wanted), Object.deleted_at.is_(None), readable_by(viewer))
    posts = list(await session.scalars(query))
    shown = await statuses_json(session, config, posts, viewer=viewer)
    return {post.id: body for post, body in zip(posts, shown, strict=True)}


async def accounts_by_id(
    session: AsyncSession, config: Config, actor_ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    actors = list(await session.scalars(select(Actor).where(Actor.id.in_(set(actor_ids)))))
    return {
        actor.id: shown
        for actor, shown in zip(actors, await accounts_json(session, config, actors), strict=True)
    }


async def _entities(
    session: AsyncSession, config: Config, viewer: Viewer, items: Sequence[Notification]
) -> list[dict[str, Any]]:
    """Notification entities. One whose status the member may not read (gone since) is left
    out: apps cannot show a mention without its status."""
    accounts = await accounts_by_id(session, config, (item.who.id for item in items))
    statuses = await statuses_by_post(session, config, viewer, map(status_post_id, items))
    found = []
    for item in items:
        post_id = status_post_id(item)
        if item.who.id not in accounts or (post_id is not None and post_id not in statuses):
            continue
        shown = statuses[post_id] if post_id is not None else None
        found.append(notification(item, accounts[item.who.id], shown))
    return found


@scoped("read:notifications")
async def index(request: Request, holder: Holder) -> Response:
    """Newest first; `types[]`, `exclude_types[]`, `account_id`, `max_id`/`since_id`/`min_id`
    (notification ids), `limit` (40, at most 80), and a `Link` header."""
    config = request.app.state.config
    limit = limit_of(request, DEFAULT_LIMIT, MAX_LIMIT)
    selection = selection_of(request)
    if selection is None:
        return JSONResponse([])
    oldest_first = pages_forward(request)
    async with request.app.state.sessions() as session:
        items = await model.notifications_for(
            session,
            holder.member,
            config=config,
            limit=limit,
            selection=selection,
            oldest_first=oldest_first,
        )
        if oldest_first:
            items.reverse()
        body = await _entities(session, config, holder.viewer, items)
    headers = links_between(request, items[-1].key.id, items[0].key.id) if items else {}
    return JSONResponse(body, headers=headers)


async def unread(request: Request, holder: Holder, grouped: frozenset[str] | None) -> Response:
    """`{"count": n}`: the notifications (or, with `grouped`, the groups) newer than the
    member's notifications marker, as `types[]`, `exclude_types[]` and `account_id` say;
    counted up to `limit` (100, at most 1000), as Mastodon 4.3 counts them."""
    limit = limit_of(request, DEFAULT_COUNT_LIMIT, MAX_COUNT_LIMIT)
    selection = selection_of(request)
    if selection is None:
        return JSONResponse({"count": 0})
    async with request.app.state.sessions() as session:
        read_up_to = await notifications_read_up_to(session, holder.member)
        count = await model.unread_count(
            session,
            holder.member,
            config=request.app.state.config,
            selection=replace(selection, older_than=None, newer_than=read_up_to),  # the marker alone
            limit=limit,
            grouped=grouped,
        )
    return JSONResponse({"count": count})


@scoped("read:notifications")
async def unread_count(request: Request, holder: Holder) -> Response:
    return await unread(request, holder, grouped=None)


def _path_key(request: Request) -> NotificationKey:
    return found(NotificationKey.parse(request.path_params["id"]))


@scoped("read:notifications")
async def show(request: Request, holder: Holder) -> Response:
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        item = await model.notification(session, holder.member, _path_key(request), config=config)
        body = await _entities(session, config, holder.viewer, [item] if item is not None else [])
    if not body:
        raise MastodonError(404, NOT_FOUND)
    return JSONResponse(body[0])


@scoped("write:notifications")
async def dismiss(request: Request, holder: Holder) -> Response:
    key = _path_key(request)
    async with request.app.state.sessions() as session, session.begin():
        if not await model.dismiss(session, holder.member, key, config=request.app.state.config):
            raise MastodonError(404, NOT_FOUND)
    return JSONResponse({})


@scoped("write:notifications")
async def clear(request: Request, holder: Holder) -> Response:
    async with request.app.state.sessions() as session, session.begin():
        await model.clear(session, holder.member)
    return JSONResponse({})


routes = [
    Route("/api/v1/notifications", index),
    Route("/api/v1/notifications/clear", clear, methods=["POST"]),
    Route("/api/v1/notifications/unread_count", unread_count),
    Route("/api/v1/notifications/{id}", show),
    Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
]
