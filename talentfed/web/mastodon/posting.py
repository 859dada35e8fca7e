"""Writing through the client API: post (once per `Idempotency-Key`), delete, favourite, boost,
pin; every rule is the domain's (domain/posts.py, domain/idempotency.py), as for the web form.
Mentions are looked up before the transaction opens."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed import kinds
from talentfed.config import Config
from talentfed.domain import idempotency, posts, thread_mutes
from talentfed.domain.errors import FieldError
from talentfed.domain.posts import Draft
from talentfed.storage.models import Actor, Object
from talentfed.web.mastodon.auth import Holder, member_in, scoped
from talentfed.web.mastodon.errors import NOT_ALLOWED, NOT_FOUND, MastodonError, validation_failed
from talentfed.web.mastodon.params import Params, flag_param, read_params, row_id, text_param
from talentfed.web.mastodon.statuses import acted_on, readable_post, reblog_json, status_id, statuses_json

# Mastodon's audiences as we name them; `direct` has no equivalent here yet.
VISIBILITIES = {"public": "public", "unlisted": "unlisted", "private": "followers"}


def _media_ids(params: Params) -> tuple[int, ...]:
    """`media_ids[]`: ids are decimal strings; one that is not names no upload of the member's."""
    given = params.get("media_ids") or []
    ids = [given] if isinstance(given, str) else given
    wrong = [i for i in ids if not i.isdigit() or len(i) > 18]
    if wrong:
        raise validation_failed(f"media_ids: Media {', '.join(w[:20] for w in wrong[:4])} not found")
    return tuple(int(i) for i in ids)


async def _draft(session: AsyncSession, holder: Holder, params: Params) -> Draft:
    """A note, or an answer when it replies to a question (talentfed.kinds); `spoiler_text` is
    its content warning, which makes it sensitive, as on Mastodon."""
    text = text_param(params, "status")
    media_ids = _media_ids(params)
    if not text and not media_ids:
        raise validation_failed("Text can't be blank")
    visibility = text_param(params, "visibility") or "public"
    if visibility not in VISIBILITIES:
        raise validation_failed(f"visibility {visibility!r} is not offered here")
    parent = None
    reply_to = text_param(params, "in_reply_to_id")
    if reply_to:
        parent_id = row_id(reply_to)
        if parent_id is None:
            raise MastodonError(404, NOT_FOUND)
        parent = await readable_post(session, holder.viewer, parent_id)
    return Draft(
        kind=kinds.kind_of_reply(kinds.NOTE, parent.kind if parent else None),
        body=text or "",
        summary=text_param(params, "spoiler_text") or "",  # a note's summary is its warning
        sensitive=bool(flag_param(params, "sensitive")),
        media_ids=media_ids,
        language=text_param(params, "language") or "en",
        in_reply_to=parent.uri if parent else None,
        visibility=VISIBILITIES[visibility],
    )


@scoped("write:statuses")
async def create(request: Request, holder: Holder) -> Response:
    """With an `Idempotency-Key`, a repeated request within the hour answers the first one's
    status and publishes nothing (domain/idempotency.py)."""
    params = await read_params(request)
    config = request.app.state.config
    key = request.headers.get("idempotency-key") or None
    try:
        if key is not None:
            idempotency.check_key(key)
        async with request.app.state.sessions() as session:
            draft = await _draft(session, holder, params)
        mentions = await posts.resolve_mentions(request.app.state.federation.actors, draft.body)
        async with request.app.state.sessions() as session, session.begin():
            author = await member_in(session, holder)
            if key is None:
                post = await posts.publish(session, config, author, draft, mentions=mentions)
            else:
                post = await idempotency.publish_once(session, config, author, draft, key, mentions=mentions)
            if post.deleted_at is not None:
                raise MastodonError(404, NOT_FOUND)  # the first request's status is gone
            [body] = await statuses_json(session, config, [post], viewer=holder.viewer)
    except FieldError as exc:
        raise validation_failed(exc) from None
    return JSONResponse(body)


async def own_status(session: AsyncSession, holder: Holder, post_id: int) -> tuple[Actor, Object]:
    """The token's member and their status `post_id`; Mastodon's 404 for anyone else's."""
    post = await readable_post(session, holder.viewer, post_id)
    author = await member_in(session, holder)
    if post.author_id != author.id:
        raise MastodonError(404, NOT_FOUND)  # as Mastodon answers for others' statuses
    return author, post


@scoped("write:statuses")
async def delete(request: Request, holder: Holder) -> Response:
    """Deleted; the answer carries the source text, for "delete and redraft"."""
    config = request.app.state.config
    async with request.app.state.sessions() as session, session.begin():
        author, post = await own_status(session, holder, status_id(request))
        [body] = await statuses_json(session, config, [post], viewer=holder.viewer)
        body["text"] = post.source or ""
        await posts.delete(session, config, author, post)
    return JSONResponse(body)


Change = Callable[[AsyncSession, Config, Actor, Object], Awaitable[None]]


def on_status(change: Change, *, of_reblogs: bool = True) -> Callable[[Request, Holder], Awaitable[Response]]:
    """An endpoint that changes the member's relation to a status, then shows the status. On a
    reblog's id it acts on the reblogged post (`acted_on`), unless `of_reblogs` is False: a pin
    names the member's own post (a reblog's id is 404)."""

    async def endpoint(request: Request, holder: Holder) -> Response:
        config = request.app.state.config
        async with request.app.state.sessions() as session, session.begin():
            if of_reblogs:
                post = await acted_on(session, holder.viewer, request)
            else:
                post = await readable_post(session, holder.viewer, status_id(request))
            try:
                await change(session, config, await member_in(session, holder), post)
            except FieldError as exc:
                raise validation_failed(exc) from None
            [body] = await statuses_json(session, config, [post], viewer=holder.viewer)
        return JSONResponse(body)

    return endpoint


@scoped("write:statuses")
async def reblog(request: Request, holder: Holder) -> Response:
    """As Mastodon: a new status for the reblog, wrapping the original (reblogs.py); reblogging
    again answers the same one."""
    config = request.app.state.config
    async with request.app.state.sessions() as session, session.begin():
        post = await acted_on(session, holder.viewer, request)
        member = await member_in(session, holder)
        try:
            boost = await posts.react(session, config, member, post, "announce")
        except posts.NotAllowed:
            raise MastodonError(403, NOT_ALLOWED) from None
        except FieldError as exc:
            raise validation_failed(exc) from None
        body = await reblog_json(session, config, boost, post, viewer=holder.viewer)
    return JSONResponse(body)


async def _pin(session: AsyncSession, config: Config, member: Actor, post: Object) -> None:
    await posts.set_pinned(session, member, post, True)


async def _unpin(session: AsyncSession, config: Config, member: Actor, post: Object) -> None:
    if post.pinned:  # nothing to undo is no error, as on Mastodon
        await posts.set_pinned(session, member, post, False)


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


async def _mute(session: AsyncSession, config: Config, member: Actor, post: Object) -> None:
    await thread_mutes.mute(session, member, post)


async def _unmute(session: AsyncSession, config: Config, member: Actor, post: Object) -> None:
    await thread_mutes.unmute(session, member, post)


routes = [
    Route("/api/v1/statuses", create, methods=["POST"]),
    Route("/api/v1/statuses/{id}", delete, methods=["DELETE"]),
    Route(
        "/api/v1/statuses/{id}/favourite",
        scoped("write:favourites")(on_status(_react("like"))),
        methods=["POST"],
    ),
    Route(
        "/api/v1/statuses/{id}/unfavourite",
        scoped("write:favourites")(on_status(_unreact("like"))),
        methods=["POST"],
    ),
    Route("/api/v1/statuses/{id}/reblog", reblog, methods=["POST"]),
    Route(
        "/api/v1/statuses/{id}/pin",
        scoped("write:accounts")(on_status(_pin, of_reblogs=False)),
        methods=["POST"],
    ),
    Route(
        "/api/v1/statuses/{id}/unpin",
        scoped("write:accounts")(on_status(_unpin, of_reblogs=False)),
        methods=["POST"],
    ),
    Route("/api/v1/statuses/{id}/mute", scoped("write:mutes")(on_status(_mute)), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unmute", scoped("write:mutes")(on_status(_unmute)), methods=["POST"]),
    Route(
        "/api/v1/statuses/{id}/unreblog",
        scoped("write:statuses")(on_status(_unreact("announce"))),
        methods=["POST"],
    ),
]
