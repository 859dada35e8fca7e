"""Notifications through the client API: Mastodon's Notification entities over the read model
of domain/notifications.py (no query of notifications is written here), dismiss and clear.

Ids are the notifications' keys (`NotificationKey.id`): stable, and ordered as their times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain import notifications as model
from talentfed.domain.notifications import MASTODON_TYPES, Notification, NotificationKey, Selection
from talentfed.domain.visibility import Viewer, readable_by
from talentfed.storage.models import Actor, Object
from talentfed.web.mastodon.accounts import accounts_json
from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.entities import iso
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError
from talentfed.web.mastodon.paging import limit_of, links_between
from talentfed.web.mastodon.params import row_id
from talentfed.web.mastodon.statuses import statuses_json

DEFAULT_LIMIT, MAX_LIMIT = 40, 80  # Mastodon's, for notifications


def _key_param(request: Request, name: str) -> NotificationKey | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    key = NotificationKey.parse(raw)
    if key is None:
        raise MastodonError(422, f"{name} must be a notification id")
    return key


def _listed(request: Request, name: str) -> list[str]:
    """`types[]=a&types[]=b`, also written `types=a` or `types=a,b` by some apps."""
    params = request.query_params
    values = params.getlist(f"{name}[]") or params.getlist(name)
    return [part for value in values for part in value.split(",") if part]


def _kinds(request: Request) -> frozenset[str] | None:
    """Our kinds that `types[]` and `exclude_types[]` leave (None: all of them)."""
    wanted, excluded = _listed(request, "types"), _listed(request, "exclude_types")
    if not wanted and not excluded:
        return None
    kinds = model.kinds_of_types(wanted) if wanted else frozenset(model.KINDS)
    return kinds - model.kinds_of_types(excluded)


def _selection(request: Request, from_actor_id: int | None) -> Selection:
    newer = [key for key in (_key_param(request, "since_id"), _key_param(request, "min_id")) if key]
    return Selection(
        kinds=_kinds(request),
        from_actor_id=from_actor_id,
        older_than=_key_param(request, "max_id"),
        newer_than=max(newer) if newer else None,
    )


def _status_post_id(item: Notification) -> int | None:
    """The status a notification shows: the reply itself (a mention, for Mastodon), else the
    post concerned (the member's post liked or reblogged, or the post mentioning them)."""
    if item.reply_id is not None:
        return item.reply_id
    return item.post.id if item.post is not None else None


async def _statuses(
    session: AsyncSession, config: Config, viewer: Viewer, items: Sequence[Notification]
) -> dict[int, dict[str, Any]]:
    wanted = {post_id for item in items if (post_id := _status_post_id(item)) is not None}
    if not wanted:
        return {}
    query = select(Object).where(Object.id.in_(wanted), Object.deleted_at.is_(None), readable_by(viewer))
    posts = list(await session.scalars(query))
    shown = await statuses_json(session, config, posts, viewer=viewer)
    return {post.id: body for post, body in zip(posts, shown, strict=True)}


async def _entities(
    session: AsyncSession, config: Config, viewer: Viewer, items: Sequence[Notification]
) -> list[dict[str, Any]]:
    """Notification entities. One whose status the member may not read (a reply addressed to
    others) is left out: apps cannot show a mention without its status."""
    actors = list(await session.scalars(select(Actor).where(Actor.id.in_({item.who.id for item in items}))))
    accounts = {
        actor.id: shown
        for actor, shown in zip(actors, await accounts_json(session, config, actors), strict=True)
    }
    statuses = await _statuses(session, config, viewer, items)
    found = []
    for item in items:
        post_id = _status_post_id(item)
        if item.who.id not in accounts or (post_id is not None and post_id not in statuses):
            continue
        entity = {
            "id": item.key.id,
            "type": MASTODON_TYPES[item.kind],
            "created_at": iso(item.at),
            "group_key": f"ungrouped-{item.key.id}",
            "account": accounts[item.who.id],
        }
        if post_id is not None:
            entity["status"] = statuses[post_id]
        found.append(entity)
    return found


@scoped("read:notifications")
async def index(request: Request, holder: Holder) -> Response:
    """Newest first; `types[]`, `exclude_types[]`, `account_id`, `max_id`/`since_id`/`min_id`
    (notification ids), `limit` (40, at most 80), and a `Link` header."""
    config = request.app.state.config
    limit = limit_of(request, DEFAULT_LIMIT, MAX_LIMIT)
    account = request.query_params.get("account_id", "")
    from_actor = row_id(account)
    if account and from_actor is None:
        return JSONResponse([])  # names no account, so nothing is from it (as on Mastodon)
    selection = _selection(request, from_actor)
    oldest_first = request.query_params.get("min_id") not in (None, "")
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


def _path_key(request: Request) -> NotificationKey:
    key = NotificationKey.parse(request.path_params["id"])
    if key is None:
        raise MastodonError(404, NOT_FOUND)
    return key


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
    Route("/api/v1/notifications/{id}", show),
    Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
]
