"""Who calls the Mastodon client API: the bearer token, its scopes, its member.

Endpoints are written `async def endpoint(request, holder) -> Response` and wrapped in
`scoped(...)`, which answers Mastodon's refusals (401, 403, 422) before the endpoint runs. Scopes
are decided by `domain/oauth.grants`; what a holder may read, by `domain/visibility.py` through
`Holder.viewer`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from talentfed.domain import visibility
from talentfed.domain.oauth import grants, token_holder
from talentfed.storage.models import Actor, OAuthToken, User
from talentfed.web.caller import bearer_token
from talentfed.web.mastodon.errors import MastodonError


@dataclass(frozen=True)
class Holder:
    """The holder of a valid bearer token: an app acting for a member, or on its own (no user)."""

    token: OAuthToken
    scopes: frozenset[str]
    user: User | None
    actor: Actor | None

    @property
    def viewer(self) -> visibility.Viewer:
        """The reader of posts this token stands for (an app's own token reads as anyone)."""
        return visibility.Viewer(actor_id=self.actor.id) if self.actor is not None else visibility.ANONYMOUS

    @property
    def member(self) -> Actor:
        """The token's member, for endpoints behind `scoped(user_required=True)` (the default),
        which has refused app-only tokens already."""
        if self.actor is None:
            raise RuntimeError("a member's token was expected")
        return self.actor


async def bearer_holder(request: Request) -> Holder | None:
    """The holder of the request's `Authorization: Bearer` token, or None; looked up once per request."""
    if "bearer_holder" in request.scope.get("state", {}):
        return request.state.bearer_holder
    found = None
    bearer = bearer_token(request)
    if bearer:
        # begin(): token_holder may record when the token was last used
        async with request.app.state.sessions.begin() as session:
            held = await token_holder(session, bearer)
        if held is not None:
            token, member = held
            actor, user = member if member is not None else (None, None)
            found = Holder(token, frozenset(token.scopes.split()), user, actor)
    request.state.bearer_holder = found
    return found


INVALID_TOKEN = "The access token is invalid"
OUTSIDE_SCOPES = "This action is outside the authorized scopes"
USER_REQUIRED = "This method requires an authenticated user"


async def optional_holder(request: Request, scope: str) -> Holder | None:
    """For endpoints anyone may call: a token, if given, must be valid and grant `scope`
    (Mastodon's `authorize_if_got_token!`); None without one."""
    holder = await bearer_holder(request)
    if holder is None and request.headers.get("authorization", "").lower().startswith("bearer "):
        raise MastodonError(401, INVALID_TOKEN)
    if holder is not None and not grants(holder.scopes, scope):
        raise MastodonError(403, OUTSIDE_SCOPES)
    return holder


async def member_in(session: AsyncSession, holder: Holder) -> Actor:
    """The token's member as a row of `session`, to change; 401 if deleted since the token was read."""
    actor = await session.get(Actor, holder.actor.id) if holder.actor is not None else None
    if actor is None:
        raise MastodonError(401, INVALID_TOKEN)
    return actor


Endpoint = Callable[[Request, Holder], Awaitable[Response]]


def scoped(
    scope: str | None, *, user_required: bool = True
) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """An endpoint for bearers of a token that grants `scope` (any valid token when None)."""

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            holder = await bearer_holder(request)
            if holder is None:
                challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}  # RFC 6750 §3
                return JSONResponse({"error": INVALID_TOKEN}, status_code=401, headers=challenge)
            if scope is not None and not grants(holder.scopes, scope):
                return JSONResponse({"error": OUTSIDE_SCOPES}, status_code=403)
            if user_required and holder.user is None:
                return JSONResponse({"error": USER_REQUIRED}, status_code=422)
            return await endpoint(request, holder)

        return wrapped

    return decorate
