"""Follows through the client API: follow, unfollow and relationships, by domain/follows.py."""

from __future__ import annotations

import contextlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain import follows, mutes
from talentfed.federation.account_blocks import find_block
from talentfed.storage.models import Actor, Follow
from talentfed.web.mastodon.accounts import account_id
from talentfed.web.mastodon.auth import Holder, member_in, scoped
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError, validation_failed
from talentfed.web.mastodon.params import row_id

MAX_IDS = 40  # relationships asked for at once


async def _actor(session: AsyncSession, actor_id: int) -> Actor:
    actor = await session.get(Actor, actor_id)
    if actor is None:
        raise MastodonError(404, NOT_FOUND)
    return actor


async def relationship(session: AsyncSession, me: Actor, other: Actor) -> dict[str, object]:
    """A Relationship: the follow each way (pending shows as `requested`), the block each way
    and the member's mute; the rest we do not do."""
    edges = {
        (edge.follower_id, edge.followed_id): edge.state
        for edge in await session.scalars(
            select(Follow).where(
                ((Follow.follower_id == me.id) & (Follow.followed_id == other.id))
                | ((Follow.follower_id == other.id) & (Follow.followed_id == me.id))
            )
        )
    }
    mine, theirs = edges.get((me.id, other.id)), edges.get((other.id, me.id))
    muted = await mutes.mute_of(session, me.id, other.id)
    return {
        "id": str(other.id),
        "following": mine == "accepted",
        "showing_reblogs": mine == "accepted",
        "notifying": False,
        "languages": None,
        "followed_by": theirs == "accepted",
        "blocking": await find_block(session, me.id, other.id) is not None,
        "blocked_by": await find_block(session, other.id, me.id) is not None,
        "muting": muted is not None,
        "muting_notifications": muted is not None and muted.notifications,
        "requested": mine == "pending",
        "requested_by": theirs == "pending",
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


@scoped("write:follows")
async def follow(request: Request, holder: Holder) -> Response:
    """Follow at once (a member here) or by a Follow activity (elsewhere: `requested` until Accept)."""
    async with request.app.state.sessions() as session, session.begin():
        me, other = await member_in(session, holder), await _actor(session, account_id(request))
        try:
            await follows.follow(session, request.app.state.config, me, other)
        except follows.FollowError as exc:
            raise validation_failed(exc) from None
        return JSONResponse(await relationship(session, me, other))


@scoped("write:follows")
async def unfollow(request: Request, holder: Holder) -> Response:
    async with request.app.state.sessions() as session, session.begin():
        me, other = await member_in(session, holder), await _actor(session, account_id(request))
        # Not following already is no error: Mastodon answers with the relationship all the same.
        with contextlib.suppress(follows.FollowError):
            await follows.unfollow(session, request.app.state.config, me, other)
        return JSONResponse(await relationship(session, me, other))


@scoped("read:follows")
async def relationships(request: Request, holder: Holder) -> Response:
    """`id[]=1&id[]=2` (or `id=1`): one Relationship per known account, in the order asked."""
    raw = request.query_params.getlist("id[]") or request.query_params.getlist("id")
    wanted = [found for found in map(row_id, raw[:MAX_IDS]) if found is not None]
    async with request.app.state.sessions() as session:
        me = await member_in(session, holder)
        found = []
        for other_id in wanted:
            other = await session.get(Actor, other_id)
            if other is not None:
                found.append(await relationship(session, me, other))
    return JSONResponse(found)


routes = [
    Route("/api/v1/accounts/relationships", relationships),
    Route("/api/v1/accounts/{id}/follow", follow, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unfollow", unfollow, methods=["POST"]),
]
