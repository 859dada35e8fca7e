"""talentfed's JSON API for authoring and reading, under /api/talentfed/v1.

/api/v1 and /api/v2 stay free for a Mastodon-compatible client API. Members
authenticate with `Authorization: Bearer TOKEN` (`talentfed user token USER`).
Invalid input is answered 422 with the field and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain import posts
from talentfed.domain.members import member_for_token
from talentfed.domain.posts import Draft, PostError
from talentfed.domain.visibility import ANONYMOUS, readable_by
from talentfed.federation.post_terms import term_values
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor, Object
from talentfed.storage.search import json_list_contains
from talentfed.text import normalize_skill
from talentfed.web.bodies import BodyTooLarge, read_body

PREFIX = "/api/talentfed/v1"
PAGE_SIZE = 20
MAX_REQUEST_BYTES = 256 * 1024


class ApiError(Exception):
    def __init__(self, status: int, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.field = status, reason, field

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.reason}
        if self.field:
            body["field"] = self.field
        return JSONResponse(body, status_code=self.status)


Endpoint = Callable[[Request], Awaitable[Response]]


def api(endpoint: Endpoint) -> Endpoint:
    """Turn ApiError and PostError into JSON answers; never a 500 for bad input."""

    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ApiError as exc:
            return exc.response()
        except PostError as exc:
            return ApiError(422, exc.message, exc.field).response()

    return wrapped


# --- input ------------------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await read_body(request, MAX_REQUEST_BYTES)
    except BodyTooLarge:
        raise ApiError(413, f"request body over {MAX_REQUEST_BYTES} bytes") from None
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise ApiError(422, "expected a JSON object")
    return data


def _text(data: dict, name: str, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(422, "expected a string", name)
    return value


def _strings(data: dict, name: str) -> tuple[str, ...]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError(422, "expected a list of strings", name)
    return tuple(value)


def _datetime(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ApiError(422, "expected an ISO 8601 date-time", name)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "expected an ISO 8601 date-time", name) from None
    if moment.tzinfo is None:
        raise ApiError(422, "expected a date-time with a time zone", name)
    return moment


def _draft(data: dict, *, kind: str | None = None) -> Draft:
    team_size = data.get("team_size")
    if team_size is not None and (not isinstance(team_size, int) or isinstance(team_size, bool)):
        raise ApiError(422, "expected a whole number", "team_size")
    kind = kind or _text(data, "kind")
    return Draft(
        kind=kind,
        title=_text(data, "title"),
        body=_text(data, "body"),
        summary=_text(data, "summary"),
        tags=_strings(data, "tags"),
        skills=_strings(data, "skills"),
        language=_text(data, "language", "en") or None,
        in_reply_to=_text(data, "in_reply_to") or None,
        deadline=_datetime(data.get("deadline"), "deadline"),
        status=_text(data, "status", "open") if kind == "project" else None,
        visibility=_text(data, "visibility", "public"),
        team_size=team_size,
        contact=_text(data, "contact") or None,
    )


# --- authentication and lookups ---------------------------------------------------------


async def _author(request: Request, session: AsyncSession) -> Actor:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    member = await member_for_token(session, token.strip()) if scheme.lower() == "bearer" else None
    if member is None:
        raise ApiError(401, "a valid bearer token is required")
    return member[0]


async def _own_post(request: Request, session: AsyncSession) -> Object:
    uri = LocalURIs(request.app.state.config.node.base_url).object(request.path_params["object_id"])
    post = await posts.find_object(session, uri)
    if post is None or not post.local or post.deleted_at is not None:
        raise ApiError(404, "no such post")
    return post


async def _checked_author(request: Request) -> None:
    """Refuse a request without a valid token before anything is looked up on other servers."""
    async with request.app.state.sessions() as session:
        await _author(request, session)


async def _mentions(request: Request, markdown: str) -> dict[str, Actor]:
    """Resolved with no transaction open: the lookups wait on other servers."""
    return await posts.resolve_mentions(request.app.state.federation.actors, markdown)


def _terms_json(post: Object) -> dict[str, Any]:
    """The post's values of talentfed's terms under their field names, JSON-ready."""
    values = term_values(post)
    return {
        field: value.isoformat() if isinstance(value, datetime) else value for field, value in values.items()
    }


def post_json(post: Object, author: Actor | None = None) -> dict[str, Any]:
    return {
        "url": post.uri,
        "kind": post.kind,
        "type": post.type,
        "author": author.uri if author else None,
        "title": post.name,
        "summary": post.summary,
        "content": post.content,
        "source": post.source,
        "language": post.language,
        "tags": post.tags,
        **_terms_json(post),
        "in_reply_to": post.in_reply_to_uri,
        "visibility": post.visibility,
        "local": post.local,
        "published": post.published.isoformat(),
        "updated": post.updated.isoformat() if post.updated else None,
    }


# --- endpoints --------------------------------------------------------------------------


@api
async def create_post(request: Request) -> Response:
    data = await _json_body(request)
    draft = _draft(data)
    await _checked_author(request)
    mentions = await _mentions(request, draft.body)
    async with request.app.state.sessions() as session, session.begin():
        author = await _author(request, session)
        post = await posts.publish(session, request.app.state.config, author, draft, mentions=mentions)
        return JSONResponse(post_json(post, author), status_code=201, headers={"Location": post.uri})


@api
async def edit_post(request: Request) -> Response:
    data = await _json_body(request)
    async with request.app.state.sessions() as session:
        await _author(request, session)
        current = await _own_post(request, session)
    draft = _draft({**_editable(current), **data}, kind=current.kind)
    mentions = await _mentions(request, draft.body)
    async with request.app.state.sessions() as session, session.begin():
        author = await _author(request, session)
        post = await _own_post(request, session)
        await posts.edit(session, request.app.state.config, author, post, draft, mentions=mentions)
        return JSONResponse(post_json(post, author))


def _editable(post: Object) -> dict[str, Any]:
    """A post's current fields, as the JSON a client sends: what an edit leaves out is kept."""
    return {
        "title": post.name or "",
        "summary": posts.summary_source(post.summary),
        "body": post.source or "",
        "tags": post.tags,
        "skills": post.skills,
        "language": post.language,
        "in_reply_to": post.in_reply_to_uri,
        "visibility": post.visibility,
        **_terms_json(post),
    }


@api
async def delete_post(request: Request) -> Response:
    async with request.app.state.sessions() as session, session.begin():
        author = await _author(request, session)
        await posts.delete(session, request.app.state.config, author, await _own_post(request, session))
    return Response(status_code=204)


@api
async def accept_answer(request: Request) -> Response:
    data = await _json_body(request)
    answer_url = _text(data, "answer")
    async with request.app.state.sessions() as session, session.begin():
        author = await _author(request, session)
        question = await _own_post(request, session)
        answer = await posts.find_object(session, answer_url)
        if answer is None:
            raise ApiError(422, "no known answer at that URL", "answer")
        await posts.accept_answer(session, request.app.state.config, author, question, answer)
        return JSONResponse(post_json(question, author))


@api
async def project_status(request: Request) -> Response:
    data = await _json_body(request)
    async with request.app.state.sessions() as session, session.begin():
        author = await _author(request, session)
        project = await _own_post(request, session)
        await posts.set_project_status(
            session, request.app.state.config, author, project, _text(data, "status")
        )
        return JSONResponse(post_json(project, author))


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(422, "expected a positive integer", "page")
    return int(raw)


@api
async def member_posts(request: Request) -> Response:
    page = _page(request)
    kind = request.query_params.get("kind")
    async with request.app.state.sessions() as session:
        author = await session.scalar(
            select(Actor).where(Actor.local.is_(True), Actor.username == request.path_params["username"])
        )
        if author is None:
            raise ApiError(404, "no such member")
        query = select(Object).where(
            Object.author_id == author.id,
            Object.deleted_at.is_(None),
            readable_by(ANONYMOUS),
        )
        if kind:
            query = query.where(Object.kind == kind)
        rows = await session.scalars(
            query.order_by(Object.published.desc(), Object.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
        items = list(rows)
    return JSONResponse(
        {
            "page": page,
            "items": [post_json(p, author) for p in items[:PAGE_SIZE]],
            "next": page + 1 if len(items) > PAGE_SIZE else None,
        }
    )


@api
async def list_projects(request: Request) -> Response:
    """Project calls across everything this node has observed, with filters and paging."""
    page = _page(request)
    params = request.query_params
    query = (
        select(Object, Actor)
        .join(Actor, Actor.id == Object.author_id)
        .where(
            Object.kind == "project",
            Object.deleted_at.is_(None),
            readable_by(ANONYMOUS),
        )
    )
    if params.get("status"):
        query = query.where(Object.status == params["status"])
    if params.get("deadline_after"):
        query = query.where(Object.deadline >= _datetime(params["deadline_after"], "deadline_after"))
    if params.get("institution"):
        institution = params["institution"]
        query = query.where(
            or_(Actor.domain == institution.lower(), cast(Object.extra, String).contains(institution))
        )
    async with request.app.state.sessions() as session:
        if params.get("skill"):
            dialect = session.get_bind().dialect.name
            query = query.where(json_list_contains(dialect, Object.skills, normalize_skill(params["skill"])))
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await session.execute(
            query.order_by(Object.deadline.is_(None), Object.deadline, Object.id)  # undated last
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        items = [post_json(post, author) for post, author in rows]
    return JSONResponse(
        {"page": page, "total": total, "items": items, "next": page + 1 if page * PAGE_SIZE < total else None}
    )


routes = [
    Route(f"{PREFIX}/posts", create_post, methods=["POST"]),
    Route(f"{PREFIX}/posts/{{object_id}}", edit_post, methods=["PATCH"]),
    Route(f"{PREFIX}/posts/{{object_id}}", delete_post, methods=["DELETE"]),
    Route(f"{PREFIX}/posts/{{object_id}}/accept", accept_answer, methods=["POST"]),
    Route(f"{PREFIX}/posts/{{object_id}}/status", project_status, methods=["POST"]),
    Route(f"{PREFIX}/members/{{username}}/posts", member_posts),
    Route(f"{PREFIX}/projects", list_projects),
]
