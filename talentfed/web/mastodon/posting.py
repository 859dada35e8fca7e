"""Writing through the client API: post, delete, favourite, boost; every rule is the domain's
(domain/posts.py), as for the web form. Mentions are looked up before the transaction opens."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed import kinds
from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.errors import FieldError
from talentfed.domain.posts import Draft
from talentfed.storage.models import Actor, Object
from talentfed.web.mastodon.auth import Holder, member_in, scoped
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError, found, validation_failed
from talentfed.web.mastodon.params import Params, read_params, row_id, text_param
from talentfed.web.mastodon.statuses import readable_post, status_id, statuses_json

# Mastodon's audiences as we name them; `direct` has no equivalent here yet.
VISIBILITIES = {"public": "public", "unlisted": "unlisted", "private": "followers"}


async def _draft(session: AsyncSession, holder: Holder, params: Params) -> Draft:
    """A note, or an answer when it replies to a question (talentfed.kinds)."""
    text = text_param(params, "status")
    if not text:
        raise validation_failed("Text can't be blank")
    visibility = text_param(params, "visibility") or "public"
    if visibility not in VISIBILITIES:
        raise validation_failed(f"visibility {visibility!r} is not offered here")
    parent = None
    reply_to = text_param(params, "in_reply_to_id")
    if reply_to:
        parent = await readable_post(session, holder.viewer, found(row_id(reply_to)))
    return Draft(
        kind=kinds.kind_of_reply(kinds.NOTE, parent.kind if parent else None),
        body=text,
        language=text_param(params, "language") or "en",
        in_reply_to=parent.uri if parent else None,
        visibility=VISIBILITIES[visibility],
    )


@scoped("write:statuses")
async def create(request: Request, holder: Holder) -> Response:
    params = await read_params(request)
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        draft = await _draft(session, holder, params)
    try:
        mentions = await posts.resolve_mentions(request.app.state.federation.actors, draft.body)
        async with request.app.state.sessions() as session, session.begin():
            post = await posts.publish(
                session, config, await member_in(session, holder), draft, mentions=mentions
            )
            [body] = await statuses_json(session, config, [post], viewer=holder.viewer)
    except FieldError as exc:
        raise validation_failed(exc) from None
    return JSONResponse(body)


@scoped("write:statuses")
async def delete(request: Request, holder: Holder) -> Response:
    """Deleted; the answer carries the source text, for "delete and redraft"."""
    config = request.app.state.config
    async with request.app.state.sessions() as session, session.begin():
        post = await readable_post(session, holder.viewer, status_id(request))
        author = await member_in(session, holder)
        if post.author_id != author.id:
            raise MastodonError(404, NOT_FOUND)  # as Mastodon answers for others' statuses
        [body] = await statuses_json(session, config, [post], viewer=holder.viewer)
        body["text"] = post.source or ""
        await posts.delete(session, config, author, post)
    return JSONResponse(body)


Change = Callable[[AsyncSession, Config, Actor, Object], Awaitable[None]]


def _on_status(change: Change) -> Callable[[Request, Holder], Awaitable[Response]]:
    """An endpoint that changes the member's relation to a status, then shows the status."""

    async def endpoint(request: Request, holder: Holder) -> Response:
        config = request.app.state.config
        async with request.app.state.sessions() as session, session.begin():
            post = await readable_post(session, holder.viewer, status_id(request))
            try:
                await change(session, config, await member_in(session, holder), post)
            except FieldError as exc:
                raise validation_failed(exc) from None
            [body] = await statuses_json(session, config, [post], viewer=holder.viewer)
        return JSONResponse(body)

    return endpoint


def _react(kind: str) -> Change:
    async def change(session: AsyncSession, config: Config, actor: Actor, post: Object) -> None:
        await posts.react(session, config, actor, post, kind)

    return change


def _unreact(kind: str) -> Change:
    async def change(session: AsyncSession, config: Config, actor: Actor, post: Object) -> None:
        # Nothing to undo is no error: Mastodon answers with the status all the same.
        with contextlib.suppress(posts.PostError):
            await posts.unreact(session, config, actor, post, kind)

    return change


routes = [
    Route("/api/v1/statuses", create, methods=["POST"]),
    Route("/api/v1/statuses/{id}", delete, methods=["DELETE"]),
    Route(
        "/api/v1/statuses/{id}/favourite",
        scoped("write:favourites")(_on_status(_react("like"))),
        methods=["POST"],
    ),
    Route(
        "/api/v1/statuses/{id}/unfavourite",
        scoped("write:favourites")(_on_status(_unreact("like"))),
        methods=["POST"],
    ),
    Route(
        "/api/v1/statuses/{id}/reblog",
        scoped("write:statuses")(_on_status(_react("announce"))),
        methods=["POST"],
    ),
    Route(
        "/api/v1/statuses/{id}/unreblog",
        scoped("write:statuses")(_on_status(_unreact("announce"))),
        methods=["POST"],
    ),
]
