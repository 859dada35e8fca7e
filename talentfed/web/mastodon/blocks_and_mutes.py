"""Blocks and mutes through the client API: block, unblock, mute and unmute an account (each
answered with the Relationship), and the member's blocks and mutes, paged with a `Link` header.
The rules are domain/member_blocks.py and domain/mutes.py; scopes as Mastodon's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain import member_blocks, mutes
from talentfed.domain.errors import FieldError
from talentfed.storage.models import AccountBlock, AccountMute, Actor
from talentfed.web.mastodon.accounts import account_id, accounts_page
from talentfed.web.mastodon.auth import Holder, member_in, scoped
from talentfed.web.mastodon.errors import found, validation_failed
from talentfed.web.mastodon.paging import page_of
from talentfed.web.mastodon.params import ParamsError, flag_param, read_params, text_param, whole_number
from talentfed.web.mastodon.relationships import relationship

Change = Callable[[AsyncSession, Actor, Actor], Awaitable[object]]


async def _changed(request: Request, holder: Holder, change: Change) -> Response:
    """Apply `change` (member, account) and answer the Relationship; 404 for an unknown account,
    422 for what the domain refuses."""
    async with request.app.state.sessions() as session, session.begin():
        me = await member_in(session, holder)
        other = found(await session.get(Actor, account_id(request)))
        try:
            await change(session, me, other)
        except FieldError as exc:
            raise validation_failed(exc) from None
        return JSONResponse(await relationship(session, me, other))


@scoped("write:blocks")
async def block(request: Request, holder: Holder) -> Response:
    config = request.app.state.config
    return await _changed(
        request, holder, lambda session, me, other: member_blocks.block(session, config, me, other)
    )


@scoped("write:blocks")
async def unblock(request: Request, holder: Holder) -> Response:
    config = request.app.state.config
    return await _changed(
        request, holder, lambda session, me, other: member_blocks.unblock(session, config, me, other)
    )


@scoped("write:mutes")
async def mute(request: Request, holder: Holder) -> Response:
    """`notifications` (default true) also hides their notifications; `duration` in seconds,
    0 for ever."""
    params = await read_params(request)
    notifications = flag_param(params, "notifications")
    duration = _duration(text_param(params, "duration"))
    return await _changed(
        request,
        holder,
        lambda session, me, other: mutes.mute(
            session, me, other, notifications=notifications is not False, duration=duration
        ),
    )


def _duration(raw: str | None) -> int:
    if raw is None:
        return 0
    number = whole_number(raw, max_digits=len(raw))
    if number is None:
        raise ParamsError(f"duration: expected a whole number of seconds, got {raw[:40]!r}")
    return number


@scoped("write:mutes")
async def unmute(request: Request, holder: Holder) -> Response:
    return await _changed(request, holder, mutes.unmute)


@scoped("read:blocks")
async def blocks(request: Request, holder: Holder) -> Response:
    """The accounts the member blocks, newest block first."""
    rows = member_blocks.blocked_rows(holder.member.id)
    return await accounts_page(request, rows, AccountBlock.id, page_of(request))


@scoped("read:mutes")
async def muted(request: Request, holder: Holder) -> Response:
    """The accounts the member mutes (expired mutes left out), newest mute first."""
    return await accounts_page(request, mutes.muted_rows(holder.member.id), AccountMute.id, page_of(request))


routes = [
    Route("/api/v1/blocks", blocks),
    Route("/api/v1/mutes", muted),
    Route("/api/v1/accounts/{id}/block", block, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unblock", unblock, methods=["POST"]),
    Route("/api/v1/accounts/{id}/mute", mute, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unmute", unmute, methods=["POST"]),
]
