"""GET /objects/{id}: a post as ActivityStreams JSON or HTML; 410 Gone once deleted.
GET /activities/{id}: one of our public activities, so that its id can be dereferenced."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from talentfed.domain.posts import answers_to, find_object, post_context
from talentfed.domain.visibility import activity_is_public, may_read
from talentfed.federation import collections
from talentfed.federation.post_documents import post_document, tombstone
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Activity, Actor, Object
from talentfed.web import pages
from talentfed.web.activitypub import authorize_request, fetch_viewer, refused
from talentfed.web.negotiation import ActivityJSONResponse, wants_activity_json
from talentfed.web.templating import reader


async def _local_post(request: Request) -> Object | None:
    uri = LocalURIs(request.app.state.config.node.base_url).object(request.path_params["object_id"])
    async with request.app.state.sessions() as session:
        post = await find_object(session, uri)
    return post if post is not None and post.local else None


async def object_endpoint(request: Request) -> Response:
    post = await _local_post(request)
    if post is None:
        return await _missing(request, "post not found", 404)
    if post.deleted_at is not None:
        if wants_activity_json(request):
            return ActivityJSONResponse(tombstone(post), status_code=410)
        return await pages.message(request, "Gone", "This post was deleted.", status_code=410)
    as_json = wants_activity_json(request)
    if as_json:
        authorization = await authorize_request(request)
        if not authorization.allowed:
            return refused(authorization)
        who = fetch_viewer(authorization)
    else:
        who = await reader(request)
    async with request.app.state.sessions() as session:
        if not await may_read(session, who, post):
            return await _missing(request, "post not found", 404)  # as if it did not exist
        author = await session.get(Actor, post.author_id)
        context = await post_context(session, request.app.state.config, author, post)
    if as_json:
        return ActivityJSONResponse(post_document(post, context))
    return await pages.post(request, post, author)


async def replies_endpoint(request: Request) -> Response:
    """A question's answers as an OrderedCollection, the accepted one first."""
    post = await _local_post(request)
    if post is None or post.deleted_at is not None:
        return await _missing(request, "post not found", 404)
    if not wants_activity_json(request):  # the answers are on the question's page
        return RedirectResponse(post.url or post.uri, status_code=303)
    authorization = await authorize_request(request)
    if not authorization.allowed:
        return refused(authorization)
    async with request.app.state.sessions() as session:
        answers = await answers_to(session, post, fetch_viewer(authorization))
    collection_id = f"{post.uri}/replies"
    document = collections.ordered_collection(collection_id, len(answers))
    document["orderedItems"] = [answer.uri for answer, _ in answers]
    return ActivityJSONResponse(document)


async def _missing(request: Request, reason: str, status: int) -> Response:
    if wants_activity_json(request):
        return JSONResponse({"error": reason}, status_code=status)
    return await pages.message(request, "Not found", reason.capitalize() + ".", status_code=status)


async def activity_endpoint(request: Request) -> Response:
    """A public activity we sent (Create, Update, Announce…) as JSON; a browser goes to its post.

    Activities addressed to someone in particular (Follow, Accept, Like…) are not for anyone
    else to read: 404, as Mastodon answers.
    """
    uri = LocalURIs(request.app.state.config.node.base_url).activity(request.path_params["activity_id"])
    async with request.app.state.sessions() as session:
        activity = await session.scalar(select(Activity).where(Activity.uri == uri, Activity.local.is_(True)))
        post = await find_object(session, activity.object_uri) if activity and activity.object_uri else None
    if activity is None or not activity_is_public(activity.document):
        return await _missing(request, "activity not found", 404)
    if post is not None and post.deleted_at is not None and activity.type != "Delete":
        return await _missing(request, "the post of this activity was deleted", 410)
    if not wants_activity_json(request):
        return RedirectResponse(pages.post_url(post) if post else "/", status_code=303)
    authorization = await authorize_request(request)
    if not authorization.allowed:
        return refused(authorization)
    return ActivityJSONResponse(activity.document)


async def observed_post(request: Request) -> Response:
    """/observed?uri=…: a post this node has seen from another server, to read and answer here."""
    uri = request.query_params.get("uri", "")
    who = await reader(request)
    async with request.app.state.sessions() as session:
        post = await find_object(session, uri) if uri else None
        author = await session.get(Actor, post.author_id) if post is not None else None
        readable = post is not None and await may_read(session, who, post)
    if post is not None and post.local:
        return RedirectResponse(post.url or post.uri, status_code=303)
    if post is None or author is None or post.deleted_at is not None or not readable:
        return await pages.message(
            request, "Not found", "This server has not seen that post.", status_code=404
        )
    return await pages.post(request, post, author)


routes = [
    Route("/objects/{object_id}", object_endpoint),
    Route("/objects/{object_id}/replies", replies_endpoint),
    Route("/activities/{activity_id}", activity_endpoint),
    Route("/observed", observed_post),
]
