"""Who follows whom through the client API: an account's followers and following, and the
member's follow requests with authorize and reject. The rows come from domain/follows.py,
blocked domains left out by domain/visibility.py; only the paging is done here."""

from __future__ import annotations

from sqlalchemy import Select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain import follows
from talentfed.domain.visibility import hidden_domains
from talentfed.storage.models import Actor, Follow
from talentfed.web.mastodon.accounts import account_id, accounts_page, visible_account
from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError
from talentfed.web.mastodon.paging import page_of
from talentfed.web.mastodon.relationships import relationship


async def _accounts_page(request: Request, rows: Select[Actor, Follow]) -> Response:
    """Accounts of `(actor, follow)` rows, paged by the follow's id as Mastodon pages them."""
    return await accounts_page(request, rows, Follow.id, page_of(request))


async def _listed_account(request: Request) -> tuple[int, list[str]]:
    """The path's account (404 when unknown or blocked) and the blocked domains to leave out."""
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        actor = await visible_account(session, config, await session.get(Actor, account_id(request)))
        return actor.id, await hidden_domains(session, config)


async def followers(request: Request) -> Response:
    """Accepted followers; anyone may read them, as on Mastodon where nobody here hides them."""
    actor_id, hidden = await _listed_account(request)
    return await _accounts_page(request, follows.follower_rows(actor_id, state="accepted", hidden=hidden))


async def following(request: Request) -> Response:
    actor_id, hidden = await _listed_account(request)
    return await _accounts_page(request, follows.following_rows(actor_id, state="accepted", hidden=hidden))


@scoped("read:follows")
async def requests(request: Request, holder: Holder) -> Response:
    """Who asks to follow the member, newest first."""
    async with request.app.state.sessions() as session:
        hidden = await hidden_domains(session, request.app.state.config)
    rows = follows.follower_rows(holder.member.id, state="pending", hidden=hidden)
    return await _accounts_page(request, rows)


async def _answer(request: Request, holder: Holder, *, accept: bool) -> Response:
    """Mastodon answers 404 when the account has no pending request."""
    config = request.app.state.config
    async with request.app.state.sessions() as session, session.begin():
        me = await session.get(Actor, holder.member.id)
        follower = await session.get(Actor, account_id(request))
        if me is None or follower is None:
            raise MastodonError(404, NOT_FOUND)
        try:
            await follows.answer_request(session, config, me, follower, accept=accept)
        except follows.FollowError:
            raise MastodonError(404, NOT_FOUND) from None
        return JSONResponse(await relationship(session, me, follower))


@scoped("write:follows")
async def authorize(request: Request, holder: Holder) -> Response:
    return await _answer(request, holder, accept=True)


@scoped("write:follows")
async def reject(request: Request, holder: Holder) -> Response:
    return await _answer(request, holder, accept=False)


routes = [
    Route("/api/v1/accounts/{id}/followers", followers),
    Route("/api/v1/accounts/{id}/following", following),
    Route("/api/v1/follow_requests", requests),
    Route("/api/v1/follow_requests/{id}/authorize", authorize, methods=["POST"]),
    Route("/api/v1/follow_requests/{id}/reject", reject, methods=["POST"]),
]
