"""Editing statuses: the edit itself (`PUT`), the history of a status and the source an app
edits from. An edit goes through domain/posts.edit like the web form's, so followers get an
Update and the replaced version is kept (federation/post_edits.py); an edit changes the text,
the content warning, `sensitive` and the language, and keeps the kind, title and terms
(`posts.draft_of`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed import kinds
from talentfed.domain import posts
from talentfed.domain.errors import FieldError
from talentfed.domain.post_history import history as post_history
from talentfed.domain.posts import Draft
from talentfed.domain.profiles import profile_counts
from talentfed.federation.post_documents import content_warning
from talentfed.storage.models import Actor, Object
from talentfed.text import html_to_excerpt
from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.entities import account, status_edit
from talentfed.web.mastodon.errors import validation_failed
from talentfed.web.mastodon.params import Params, flag_param, read_params, sent_text, text_param
from talentfed.web.mastodon.posting import own_status
from talentfed.web.mastodon.statuses import readable_post, status_id, statuses_json
from talentfed.web.mastodon.viewers import request_viewer


def _edited_text(params: Params) -> str:
    """The new text. Media or a poll would be dropped silently here, which is worse than saying
    so: neither is offered yet."""
    for unsupported in ("media_ids", "poll"):
        if text_param(params, unsupported) or any(key.startswith(f"{unsupported}[") for key in params):
            raise validation_failed(f"{unsupported} is not offered here yet")
    text = text_param(params, "status")
    if not text:
        raise validation_failed("Text can't be blank")
    return text


def _edited(post: Object, params: Params, text: str) -> Draft:
    """The post as the edit leaves it. As on Mastodon, `spoiler_text` and `sensitive` change only
    when sent, and a warning makes the post sensitive; an article's summary is its abstract
    (kinds.summary_is_warning), which no app edits as a warning."""
    changes: dict[str, Any] = {"body": text, "language": text_param(params, "language") or post.language}
    warning, sensitive = sent_text(params, "spoiler_text"), flag_param(params, "sensitive")
    if warning is not None and kinds.summary_is_warning(post.kind):
        changes["summary"] = warning
    elif warning:
        raise validation_failed(
            f"spoiler_text: the summary of this {post.kind} is its abstract, not a warning"
        )
    if warning is not None or sensitive is not None:
        changes["sensitive"] = bool(sensitive)
    return dataclasses.replace(posts.draft_of(post), **changes)


@scoped("write:statuses")
async def update(request: Request, holder: Holder) -> Response:
    """Only the author edits (anyone else gets Mastodon's 404); refusals are 422s."""
    params = await read_params(request)
    text = _edited_text(params)
    config = request.app.state.config
    try:
        mentions = await posts.resolve_mentions(request.app.state.federation.actors, text)
        async with request.app.state.sessions() as session, session.begin():
            author, post = await own_status(session, holder, status_id(request))
            await posts.edit(session, config, author, post, _edited(post, params, text), mentions=mentions)
            [body] = await statuses_json(session, config, [post], viewer=holder.viewer)
    except FieldError as exc:
        raise validation_failed(exc) from None
    return JSONResponse(body)


async def history(request: Request) -> Response:
    """Every version, oldest first, the original first and the current one last (one entry
    for a status never edited, as Mastodon answers)."""
    viewer = await request_viewer(request)
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        post = await readable_post(session, viewer, status_id(request))
        author = await session.get_one(Actor, post.author_id)  # a foreign key: it exists
        shown_as = account(author, await profile_counts(session, author), config)
        revisions = await post_history(session, post)
    return JSONResponse([status_edit(revision.post, revision.since, shown_as) for revision in revisions])


@scoped("read:statuses")
async def source(request: Request, holder: Holder) -> Response:
    """The Markdown our members wrote (other servers' posts: their text without markup)."""
    async with request.app.state.sessions() as session:
        post = await readable_post(session, holder.viewer, status_id(request))
    text = post.source if post.source is not None else html_to_excerpt(post.content, limit=posts.MAX_BODY)
    return JSONResponse({"id": str(post.id), "text": text, "spoiler_text": content_warning(post)})


routes = [
    Route("/api/v1/statuses/{id}", update, methods=["PUT"]),
    Route("/api/v1/statuses/{id}/history", history),
    Route("/api/v1/statuses/{id}/source", source),
]
