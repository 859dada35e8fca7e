"""ActivityPub GET endpoints: actors and their collections, content-negotiated."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, quote

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from talentfed.domain.outbox_items import outbox_count, outbox_documents
from talentfed.domain.visibility import ANONYMOUS, Viewer, readable_by
from talentfed.federation import collections, webfinger
from talentfed.federation.authorized_fetch import FetchAuthorization, authorize_fetch
from talentfed.federation.context import TALENTFED_CONTEXT
from talentfed.federation.fetcher import FetchError
from talentfed.federation.render import actor_document, technical_actor_document
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor, Follow, Object
from talentfed.web import pages
from talentfed.web.bodies import BodyTooLarge, read_body
from talentfed.web.negotiation import ActivityJSONResponse, wants_activity_json


def _uris(request: Request) -> LocalURIs:
    return LocalURIs(request.app.state.config.node.base_url)


async def _local_actor(session: AsyncSession, username: str) -> Actor | None:
    return await session.scalar(select(Actor).where(Actor.local.is_(True), Actor.username == username))


async def _actor_in_path(request: Request) -> Actor | None:
    async with request.app.state.sessions() as session:
        return await _local_actor(session, request.path_params["username"])


async def _not_found(request: Request, what: str) -> Response:
    if wants_activity_json(request):
        return JSONResponse({"error": f"{what} not found"}, status_code=404)
    return await pages.message(request, "Not found", f"{what.capitalize()} not found.", status_code=404)


async def authorize_request(request: Request) -> FetchAuthorization:
    return await authorize_fetch(
        request.app.state.federation, request.method, str(request.url), request.headers
    )


def fetch_viewer(authorization: FetchAuthorization) -> Viewer:
    """Who reads, for the visibility rule: the actor that signed the GET, else anyone."""
    return Viewer(actor_id=authorization.signer_row) if authorization.signer_row else ANONYMOUS


def refused(authorization: FetchAuthorization) -> Response:
    return JSONResponse(
        {"error": authorization.reason},
        status_code=authorization.status,
        headers={"Vary": "Accept, Signature"},
    )


async def actor_endpoint(request: Request) -> Response:
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        actor = await _local_actor(session, request.path_params["username"])
        if actor is None:
            return await _not_found(request, "account")
        if not wants_activity_json(request):
            return await pages.profile(request, actor)
        institution = await _local_actor(session, config.node.institution_username)
    document = actor_document(actor, _uris(request), institution=institution)
    if actor.username != config.node.institution_username:
        authorization = await authorize_request(request)
        if authorization.status == 403:
            return refused(authorization)
        if not authorization.allowed:
            document = technical_actor_document(document)
    return ActivityJSONResponse(document)


async def profile_page(request: Request) -> Response:
    """/@username: the profile page; ActivityPub clients are sent to the actor id."""
    username = request.path_params["username"]
    if wants_activity_json(request):
        return RedirectResponse(_uris(request).actor(username), status_code=302)
    async with request.app.state.sessions() as session:
        actor = await _local_actor(session, username)
    return await pages.profile(request, actor) if actor else await _not_found(request, "account")


async def _paged(
    request: Request,
    collection_id: str,
    count_query: Select,
    items_query: Select,
    authorization: FetchAuthorization | None = None,
) -> Response:
    authorization = authorization or await authorize_request(request)
    if not authorization.allowed:
        return refused(authorization)
    try:
        page_number = collections.parse_page(request.query_params.get("page"))
    except ValueError as exc:
        return PlainTextResponse(f"Bad request: {exc}", status_code=400)
    async with request.app.state.sessions() as session:
        total = await session.scalar(count_query)
        if page_number is None:
            return ActivityJSONResponse(collections.ordered_collection(collection_id, total))
        offset = (page_number - 1) * collections.PAGE_SIZE
        items = list(await session.scalars(items_query.offset(offset).limit(collections.PAGE_SIZE)))
    return ActivityJSONResponse(collections.collection_page(collection_id, page_number, total, items))


def _follow_collection(direction: str) -> Callable[[Request], Awaitable[Response]]:
    """followers (actors following this one) or following (actors this one follows)."""

    async def endpoint(request: Request) -> Response:
        uris = _uris(request)
        username = request.path_params["username"]
        actor = await _actor_in_path(request)
        if actor is None:
            return await _not_found(request, "account")
        own, other = (
            (Follow.followed_id, Follow.follower_id)
            if direction == "followers"
            else (Follow.follower_id, Follow.followed_id)
        )
        accepted = (own == actor.id) & (Follow.state == "accepted")
        if not wants_activity_json(request):
            return await pages.follow_list(request, actor, direction, other, accepted)
        count = select(func.count()).select_from(Follow).where(accepted)
        items = select(Actor.uri).join(Follow, other == Actor.id).where(accepted).order_by(Follow.id.desc())
        collection_id = uris.followers(username) if direction == "followers" else uris.following(username)
        return await _paged(request, collection_id, count, items)

    return endpoint


async def outbox_endpoint(request: Request) -> Response:
    uris = _uris(request)
    username = request.path_params["username"]
    actor = await _actor_in_path(request)
    if actor is None:
        return await _not_found(request, "account")
    if not wants_activity_json(request):  # a person reads the posts on the profile
        return RedirectResponse(actor.url or actor.uri, status_code=303)
    authorization = await authorize_request(request)
    if not authorization.allowed:
        return refused(authorization)
    viewer = fetch_viewer(authorization)
    count, items = outbox_count(actor, viewer), outbox_documents(actor, viewer)
    return await _paged(request, uris.outbox(username), count, items, authorization)


async def featured_endpoint(request: Request) -> Response:
    uris = _uris(request)
    username = request.path_params["username"]
    actor = await _actor_in_path(request)
    if actor is None:
        return await _not_found(request, "account")
    if not wants_activity_json(request):
        return RedirectResponse(actor.url or actor.uri, status_code=303)
    authorization = await authorize_request(request)
    if not authorization.allowed:
        return refused(authorization)
    async with request.app.state.sessions() as session:
        pinned = list(
            await session.scalars(
                select(Object.uri)
                .where(Object.author_id == actor.id, Object.pinned.is_(True), Object.deleted_at.is_(None))
                .where(readable_by(fetch_viewer(authorization)))
                .order_by(Object.published.desc())
            )
        )
    # a short list: Mastodon reads featured inline
    return ActivityJSONResponse(collections.inline_collection(uris.featured(username), pinned))


async def context_document(request: Request) -> Response:
    """talentfed's terms as a context document, for older nodes that still name one."""
    return JSONResponse(TALENTFED_CONTEXT, media_type="application/ld+json")


MAX_FORM_BYTES = 4096


async def remote_follow(request: Request) -> Response:
    """A visitor typed their handle: send them to their own server's follow page for this actor."""
    actor = await _actor_in_path(request)
    if actor is None:
        return await _not_found(request, "account")
    try:
        body = await read_body(request, MAX_FORM_BYTES)
    except BodyTooLarge:
        return await pages.profile(request, actor, follow_error="The form was too large.")
    handle = parse_qs(body.decode("utf-8", "replace")).get("handle", [""])[0].strip()
    try:
        query = webfinger.parse_handle(handle)
        template = await webfinger.subscribe_template(
            request.app.state.federation.fetcher,
            query,
            https=not request.app.state.config.federation.dev_mode,
        )
    except webfinger.MalformedResource:
        error = "Type your handle like @you@your.server."
        return await pages.profile(request, actor, follow_value=handle, follow_error=error)
    except (webfinger.WebFingerError, FetchError) as exc:
        error = f"Your server could not be asked: {exc}"
        return await pages.profile(request, actor, follow_value=handle, follow_error=error)
    return RedirectResponse(template.replace("{uri}", quote(actor.uri, safe="")), status_code=303)


routes = [
    Route("/users/{username}", actor_endpoint),
    Route("/@{username}", profile_page),
    Route("/users/{username}/followers", _follow_collection("followers")),
    Route("/users/{username}/following", _follow_collection("following")),
    Route("/users/{username}/outbox", outbox_endpoint),
    Route("/users/{username}/collections/featured", featured_endpoint),
    Route("/ns/v1", context_document),
    Route("/users/{username}/remote_follow", remote_follow, methods=["POST"]),
]
