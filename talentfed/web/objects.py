"""GET /objects/{id}: a post as ActivityStreams JSON or HTML; 410 Gone once deleted."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain.posts import answers_to, find_object, post_context
from talentfed.federation import collections
from talentfed.federation.post_documents import post_document, tombstone
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor, Object
from talentfed.web.activitypub import authorize_request, refused
from talentfed.web.negotiation import ActivityJSONResponse, wants_activity_json
from talentfed.web.pages import page


async def _local_post(request: Request) -> Object | None:
    uri = LocalURIs(request.app.state.config.node.base_url).object(request.path_params["object_id"])
    async with request.app.state.sessions() as session:
        post = await find_object(session, uri)
    return post if post is not None and post.local else None


async def object_endpoint(request: Request) -> Response:
    post = await _local_post(request)
    if post is None:
        return _missing(request, "post not found", 404)
    if post.deleted_at is not None:
        if wants_activity_json(request):
            return ActivityJSONResponse(tombstone(post), status_code=410)
        return page("Gone", "<h1>Gone</h1><p>This post was deleted.</p>", status_code=410)
    if post.visibility == "followers":
        return _missing(request, "post not found", 404)  # not for anonymous readers
    async with request.app.state.sessions() as session:
        author = await session.get(Actor, post.author_id)
        context = await post_context(session, request.app.state.config, author, post)
        answers = await answers_to(session, post) if post.kind == "question" else []
    if wants_activity_json(request):
        authorization = await authorize_request(request)
        if not authorization.allowed:
            return refused(authorization)
        return ActivityJSONResponse(post_document(post, context))
    return _post_page(post, author, answers)


async def replies_endpoint(request: Request) -> Response:
    """A question's answers as an OrderedCollection, the accepted one first."""
    post = await _local_post(request)
    if post is None or post.deleted_at is not None:
        return _missing(request, "post not found", 404)
    authorization = await authorize_request(request)
    if not authorization.allowed:
        return refused(authorization)
    async with request.app.state.sessions() as session:
        answers = await answers_to(session, post)
    collection_id = f"{post.uri}/replies"
    document = collections.ordered_collection(collection_id, len(answers))
    document["orderedItems"] = [answer.uri for answer, _ in answers]
    return ActivityJSONResponse(document)


def _missing(request: Request, reason: str, status: int) -> Response:
    if wants_activity_json(request):
        return JSONResponse({"error": reason}, status_code=status)
    return page("Not found", f"<h1>Not found</h1><p>{escape(reason)}.</p>", status_code=status)


def _post_page(post: Object, author: Actor, answers: list[tuple[Object, int]]) -> Response:
    parts = [
        f"<article><h1>{escape(post.name or 'Post')}</h1>",
        f"<p>by {escape(author.display_name or author.username)} (@{escape(author.handle)})</p>",
        post.content or "",
    ]
    if post.kind == "project":
        parts.append(
            f"<p>Skills: {escape(', '.join(post.skills))}</p><p>Status: {escape(post.status or '')}</p>"
        )
        if post.deadline:
            parts.append(f"<p>Deadline: {post.deadline:%Y-%m-%d}</p>")
    for answer, votes in answers:
        accepted = " (accepted)" if answer.uri == post.accepted_answer_uri else ""
        parts.append(f"<section><h2>Answer{accepted} · {votes} votes</h2>{answer.content or ''}</section>")
    parts.append("</article>")
    return page(post.name or "Post", "".join(parts), alternate=post.uri)


routes = [
    Route("/objects/{object_id}", object_endpoint),
    Route("/objects/{object_id}/replies", replies_endpoint),
]
