"""Accounts anyone may read: `/api/v1/accounts/lookup?acct=` and `/api/v1/accounts/:id`.

Accounts on blocked domains are not found, as Mastodon hides suspended ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain.moves import moved_to
from talentfed.domain.paging import Page, in_order, paged
from talentfed.domain.profiles import ProfileCounts, profile_counts_of
from talentfed.federation import webfinger
from talentfed.federation.blocks import domain_policies
from talentfed.storage.models import Actor
from talentfed.web.mastodon.entities import account
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError
from talentfed.web.mastodon.paging import link_header
from talentfed.web.mastodon.params import row_id


async def visible_account(session: AsyncSession, config: Config, actor: Actor | None) -> Actor:
    """The actor, unless there is none or it is on a blocked domain: Mastodon's 404 either way."""
    if actor is None or (await domain_policies(session, config)).refuses(actor.domain):
        raise MastodonError(404, NOT_FOUND)
    return actor


async def accounts_json(
    session: AsyncSession, config: Config, actors: Sequence[Actor]
) -> list[dict[str, Any]]:
    """Accounts for actors, in their order; their counts in a few queries, whatever their number.
    An account that moved shows the one it moved to (`moved`), without that one's own move."""
    targets = {actor.id: target for actor in actors if (target := await moved_to(session, actor))}
    counts = await profile_counts_of(session, [*actors, *targets.values()])
    return [
        account(actor, counts[actor.id], config, moved=_moved(targets.get(actor.id), counts, config))
        for actor in actors
    ]


def _moved(target: Actor | None, counts: dict[int, ProfileCounts], config: Config) -> dict[str, Any] | None:
    return None if target is None else account(target, counts[target.id], config)


async def account_json(session: AsyncSession, config: Config, actor: Actor) -> dict[str, Any]:
    [shown] = await accounts_json(session, config, [actor])
    return shown


async def accounts_page(request: Request, rows: Select[Actor, Any], key: Any, page: Page) -> Response:
    """Accounts of `(actor, edge)` rows, paged by the edge's id (`key`: a follow's, a like's),
    as Mastodon pages such lists, with a `Link` header."""
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        found = in_order(list(await session.execute(paged(rows, key, page))), page)
        body = await accounts_json(session, config, [actor for actor, _ in found])
    return JSONResponse(body, headers=link_header(request, [edge.id for _, edge in found]))


def account_id(request: Request) -> int:
    """The path's account id; ids are decimal strings, anything else names no account."""
    found = row_id(request.path_params["id"])
    if found is None:
        raise MastodonError(404, NOT_FOUND)
    return found


async def show(request: Request) -> Response:
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        actor = await visible_account(session, config, await session.get(Actor, account_id(request)))
        return JSONResponse(await account_json(session, config, actor))


async def lookup(request: Request) -> Response:
    """`acct` is `user` (a member here) or `user@domain`; only accounts already known are found."""
    config = request.app.state.config
    wanted = request.query_params.get("acct", "").strip().removeprefix("@")
    if not wanted:
        raise MastodonError(422, "acct is required")
    if "@" not in wanted:
        wanted = f"{wanted}@{config.node.domain}"
    try:
        query = webfinger.parse_handle(wanted)
    except webfinger.MalformedResource:
        raise MastodonError(404, NOT_FOUND) from None
    async with request.app.state.sessions() as session:
        found = await session.scalar(
            select(Actor).where(func.lower(Actor.username) == query.username, Actor.domain == query.domain)
        )
        actor = await visible_account(session, config, found)
        return JSONResponse(await account_json(session, config, actor))


routes = [
    Route("/api/v1/accounts/lookup", lookup),
    Route("/api/v1/accounts/{id}", show),
]
