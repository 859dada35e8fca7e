"""Reading statuses: one status, its thread (`context`), an account's statuses, and the
public timeline. Who may read what is decided by domain/visibility.py, as on the web pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain import thread_mutes, timelines
from talentfed.domain.fact_rows import fact, read_facts
from talentfed.domain.media import media_of
from talentfed.domain.paging import StatusRef, in_order, paged
from talentfed.domain.post_counts import post_count_facts, post_counts_from, reaction_facts, reactions_from
from talentfed.domain.profiles import profile_count_facts, profile_counts_from
from talentfed.domain.timelines import AccountFilter, Reblog, TimelineItem
from talentfed.domain.visibility import (
    ANONYMOUS,
    Viewer,
    listed,
    readable_by,
    silenced_domains,
    unsilenced,
    wanted_by,
)
from talentfed.storage.models import Actor, Interaction, Object
from talentfed.storage.search import json_list_contains
from talentfed.text import normalize_skill
from talentfed.web.mastodon.accounts import account_id
from talentfed.web.mastodon.auth import optional_holder
from talentfed.web.mastodon.entities import Parent, account, reblog, status
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError, validation_failed
from talentfed.web.mastodon.paging import link_header, links_between, page_of
from talentfed.web.mastodon.params import query_list, row_id
from talentfed.web.mastodon.reblogs import (
    item_status_id,
    reblog_row,
    reblog_status_id,
    status_ref,
    timeline_page_of,
)
from talentfed.web.mastodon.viewers import request_viewer

MAX_THREAD = 200  # ancestors or descendants shown in a context
ACCOUNT_FILTERS = ("pinned", "only_media", "exclude_replies", "exclude_reblogs")


def status_id(request: Request) -> int:
    found = row_id(request.path_params["id"])
    if found is None:
        raise MastodonError(404, NOT_FOUND)
    return found


def _readable(viewer: Viewer) -> Any:
    return select(Object).where(Object.deleted_at.is_(None), readable_by(viewer))


async def statuses_json(
    session: AsyncSession, config: Config, posts: Sequence[Object], *, viewer: Viewer
) -> list[dict[str, Any]]:
    """Statuses for posts, with their authors, counts and parents read in a few queries; for a
    member (`viewer`), also what Mastodon adds for the signed-in reader: `favourited`,
    `reblogged`, `muted`, `bookmarked`, and `pinned` on their own statuses."""
    shown = await _shown_posts(session, config, posts, set(), viewer)
    return [shown.statuses[post.id] for post in posts]


async def timeline_json(
    session: AsyncSession, config: Config, items: Sequence[TimelineItem], *, viewer: Viewer
) -> list[dict[str, Any]]:
    """Statuses for a timeline's posts and reblogs (each wrapping its original), in a few
    queries whatever their number."""
    posts = list({p.id: p for p in (i if isinstance(i, Object) else i.post for i in items)}.values())
    boosters = {item.boost.actor_id for item in items if isinstance(item, Reblog)}
    shown = await _shown_posts(session, config, posts, boosters, viewer)
    return [
        shown.statuses[item.id]
        if isinstance(item, Object)
        else reblog(
            reblog_status_id(item.boost),
            item.boost,
            shown.accounts[item.boost.actor_id],
            shown.statuses[item.post.id],
        )
        for item in items
    ]


@dataclass(frozen=True)
class _Shown:
    statuses: dict[int, dict[str, Any]]  # by post id
    accounts: dict[int, dict[str, Any]]  # by actor id: the authors' and the boosters'


async def _shown_posts(
    session: AsyncSession, config: Config, posts: Sequence[Object], boosters: set[int], viewer: Viewer
) -> _Shown:
    """The statuses of `posts` and the accounts of their authors and of `boosters`, in three
    round trips whatever their number: the actors; every count and mark shown (the actors'
    follower and post counts, the posts' replies, likes and boosts, the reader's marks) and the
    replies' parents (domain/fact_rows.py); the media."""
    actor_ids = {p.author_id for p in posts} | boosters
    actors = list(await session.scalars(select(Actor).where(Actor.id.in_(actor_ids)))) if actor_ids else []
    reader = viewer.actor_id
    facts = await read_facts(
        session,
        [
            *profile_count_facts(actor_ids),
            *post_count_facts(posts),
            *_parent_facts(posts),
            *(reaction_facts(reader, posts) if reader is not None else []),
            *(thread_mutes.muted_thread_facts(reader, posts) if reader is not None else []),
        ],
    )
    actor_counts = profile_counts_from(actor_ids, facts)
    accounts = {actor.id: account(actor, actor_counts[actor.id], config) for actor in actors}
    counts = post_counts_from(posts, facts)
    parents = {row.text: Parent(row.id, row.number) for row in facts if row.what == "parent"}
    attached = await media_of(session, posts)
    statuses = {
        post.id: status(
            post,
            accounts[post.author_id],
            counts[post.id],
            config,
            in_reply_to=parents.get(post.in_reply_to_uri or ""),
            media=attached[post.id],
        )
        for post in posts
    }
    if reader is not None:
        reacted = reactions_from(facts)
        muted = thread_mutes.muted_from(posts, facts)
        for post in posts:
            body = statuses[post.id]
            body["favourited"] = (post.id, "like") in reacted
            body["reblogged"] = (post.id, "announce") in reacted
            body["muted"] = post.id in muted
            body["bookmarked"] = (post.id, "bookmark") in reacted
            if post.author_id == reader:
                body["pinned"] = bool(post.pinned)
    return _Shown(statuses, accounts)


def _parent_facts(posts: Sequence[Object]) -> list[Select[Any]]:
    """The posts that `posts` reply to, if stored here: ("parent", id, uri, author id) rows."""
    uris = {p.in_reply_to_uri for p in posts if p.in_reply_to_uri}
    if not uris:
        return []
    return [
        fact("parent", id=Object.id, text=Object.uri, number=Object.author_id).where(Object.uri.in_(uris))
    ]


async def reblog_json(
    session: AsyncSession, config: Config, boost: Interaction, post: Object, *, viewer: Viewer
) -> dict[str, Any]:
    """The Status of a reblog (`boost` of `post`), wrapping the original."""
    [body] = await timeline_json(session, config, [Reblog(boost, post)], viewer=viewer)
    return body


Marks = Callable[[AsyncSession], Awaitable[list[tuple[int, Object]]]]


async def marked_statuses(request: Request, viewer: Viewer, read: Marks) -> Response:
    """The statuses of the posts a member marked (bookmarks, favourites), as `read` finds them:
    `(mark id, post)` rows, newest first, paged by the mark's id as Mastodon pages these lists
    (the `Link` header's ids are those)."""
    async with request.app.state.sessions() as session:
        found = await read(session)
        body = await statuses_json(
            session, request.app.state.config, [post for _, post in found], viewer=viewer
        )
    return JSONResponse(body, headers=link_header(request, [mark for mark, _ in found]))


async def readable_post(session: AsyncSession, viewer: Viewer, post_id: int) -> Object:
    """The post with that id if `viewer` may read it; else Mastodon's 404."""
    post = await session.scalar(_readable(viewer).where(Object.id == post_id))
    if post is None:
        raise MastodonError(404, NOT_FOUND)
    return post


async def acted_on(session: AsyncSession, viewer: Viewer, request: Request) -> Object:
    """The post that an action on `/api/v1/statuses/:id/…` concerns: the post with that id, or,
    for a reblog's id, the post it reblogs (Mastodon acts on the reblogged status too: its
    ReblogService, Favourite and Bookmark take `status.reblog`). Mastodon's 404 when `viewer`
    may read neither. The one place where an action's status id is read."""
    ref = status_ref(request.path_params["id"])
    items = await timelines.readable(session, viewer, [ref]) if ref is not None else []
    if not items:
        raise MastodonError(404, NOT_FOUND)
    [item] = items
    return item if isinstance(item, Object) else item.post


async def show(request: Request) -> Response:
    """A post's status, or a reblog's (reblogs.py says which ids are reblogs)."""
    viewer = await request_viewer(request)
    config = request.app.state.config
    boost_row = reblog_row(request.path_params["id"])
    async with request.app.state.sessions() as session:
        if boost_row is not None:
            items = await timelines.readable(session, viewer, [StatusRef(boost_row, reblog=True)])
            if not items:
                raise MastodonError(404, NOT_FOUND)
            [body] = await timeline_json(session, config, items, viewer=viewer)
            return JSONResponse(body)
        post = await readable_post(session, viewer, status_id(request))
        [body] = await statuses_json(session, config, [post], viewer=viewer)
    return JSONResponse(body)


MAX_STATUSES = 20  # asked for at once, as Mastodon


async def index(request: Request) -> Response:
    """`GET /api/v1/statuses?id[]=…`: several statuses at once (posts' or reblogs' ids), in the
    order asked; ids that name no status the reader may read are left out, as on Mastodon. A
    token, if given, must grant read:statuses."""
    holder = await optional_holder(request, "read:statuses")
    viewer = holder.viewer if holder is not None else ANONYMOUS
    asked = list(dict.fromkeys(query_list(request, "id")))
    if len(asked) > MAX_STATUSES:
        raise validation_failed(f"at most {MAX_STATUSES} ids")
    refs = [ref for ref in map(status_ref, asked) if ref is not None]
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        items = await timelines.readable(session, viewer, refs)
        return JSONResponse(await timeline_json(session, config, items, viewer=viewer))


async def context(request: Request) -> Response:
    """Ancestors oldest first; descendants in thread order, a question's accepted answer first."""
    viewer = await request_viewer(request)
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        post = await acted_on(session, viewer, request)
        ancestors = await _wanted(session, viewer, await _ancestors(session, viewer, post))
        descendants = await _wanted(session, viewer, await _descendants(session, viewer, post))
        return JSONResponse(
            {
                "ancestors": await statuses_json(session, config, ancestors, viewer=viewer),
                "descendants": await statuses_json(session, config, descendants, viewer=viewer),
            }
        )


async def _wanted(session: AsyncSession, viewer: Viewer, posts: list[Object]) -> list[Object]:
    """`posts` but those by accounts the member does not want to see (blocks, mutes); the
    thread is walked through them all the same, as Mastodon filters a context."""
    if viewer.actor_id is None or not posts:
        return posts
    query = select(Object.id).where(Object.id.in_([p.id for p in posts]), wanted_by(viewer.actor_id))
    kept = set(await session.scalars(query))
    return [post for post in posts if post.id in kept]


async def _ancestors(session: AsyncSession, viewer: Viewer, post: Object) -> list[Object]:
    found: list[Object] = []
    seen = {post.uri}
    parent_uri = post.in_reply_to_uri
    while parent_uri and parent_uri not in seen and len(found) < MAX_THREAD:
        seen.add(parent_uri)
        parent = await session.scalar(_readable(viewer).where(Object.uri == parent_uri))
        if parent is None:
            break
        found.append(parent)
        parent_uri = parent.in_reply_to_uri
    return list(reversed(found))


async def _descendants(session: AsyncSession, viewer: Viewer, post: Object) -> list[Object]:
    """Depth first, each level oldest first; an accepted answer leads its question's replies."""
    found: list[Object] = []
    seen = {post.uri}

    async def walk(parent: Object) -> None:
        replies = list(
            await session.scalars(
                _readable(viewer)
                .where(Object.in_reply_to_uri == parent.uri)
                .order_by(Object.published, Object.id)
            )
        )
        replies.sort(
            key=lambda reply: reply.uri != parent.accepted_answer_uri
        )  # stable: keeps the time order
        for reply in replies:
            if reply.uri in seen or len(found) >= MAX_THREAD:
                continue
            seen.add(reply.uri)
            found.append(reply)
            await walk(reply)

    await walk(post)
    return found


async def account_statuses(request: Request) -> Response:
    """The account's posts and reblogs; exclude_replies, exclude_reblogs, pinned and only_media
    as Mastodon reads them."""
    viewer = await request_viewer(request)
    config = request.app.state.config
    page = timeline_page_of(request)
    params = request.query_params
    only = AccountFilter(**{name: params.get(name) in ("true", "1") for name in ACCOUNT_FILTERS})
    async with request.app.state.sessions() as session:
        author = await session.get(Actor, account_id(request))
        if author is None:
            raise MastodonError(404, NOT_FOUND)
        items = await timelines.account(session, author, viewer, page, only)
        body = await timeline_json(session, config, items, viewer=viewer)
    return JSONResponse(body, headers=timeline_links(request, items))


def timeline_links(request: Request, items: Sequence[TimelineItem]) -> dict[str, str]:
    """The `Link` header of a page of posts and reblogs (newest first): its ids are not in the
    order of the page, so its ends are named, not found by comparing ids."""
    if not items:
        return {}
    return links_between(request, item_status_id(items[-1]), item_status_id(items[0]))


async def public_timeline(request: Request) -> Response:
    """Public posts, newest first; `local=true` ours only, `remote=true` others' only."""
    viewer = await request_viewer(request)
    config = request.app.state.config
    page = page_of(request)
    params = request.query_params
    query = select(Object).where(Object.deleted_at.is_(None), listed(), wanted_by(viewer.actor_id))
    if params.get("local") in ("true", "1"):
        query = query.where(Object.local.is_(True))
    elif params.get("remote") in ("true", "1"):
        query = query.where(Object.local.is_(False))
    async with request.app.state.sessions() as session:
        query = query.where(unsilenced(await silenced_domains(session, config), viewer.actor_id))
        posts = in_order(list(await session.scalars(paged(query, Object.id, page))), page)
        body = await statuses_json(session, config, posts, viewer=viewer)
    return JSONResponse(body, headers=link_header(request, [p.id for p in posts]))


async def tag_timeline(request: Request) -> Response:
    """Public posts with the hashtag or skill (`MachineLearning` finds "machine learning")."""
    viewer = await request_viewer(request)
    config = request.app.state.config
    page = page_of(request)
    tag = normalize_skill(request.path_params["hashtag"])
    if not tag:
        return JSONResponse([])
    async with request.app.state.sessions() as session:
        dialect = session.get_bind().dialect.name
        query = select(Object).where(
            Object.deleted_at.is_(None),
            listed(),
            wanted_by(viewer.actor_id),
            unsilenced(await silenced_domains(session, config), viewer.actor_id),
            or_(
                json_list_contains(dialect, Object.tags, tag), json_list_contains(dialect, Object.skills, tag)
            ),
        )
        if request.query_params.get("local") in ("true", "1"):
            query = query.where(Object.local.is_(True))
        posts = in_order(list(await session.scalars(paged(query, Object.id, page))), page)
        body = await statuses_json(session, config, posts, viewer=viewer)
    return JSONResponse(body, headers=link_header(request, [p.id for p in posts]))


routes = [
    Route("/api/v1/statuses", index),
    Route("/api/v1/statuses/{id}", show),
    Route("/api/v1/statuses/{id}/context", context),
    Route("/api/v1/accounts/{id}/statuses", account_statuses),
    Route("/api/v1/timelines/public", public_timeline),
    Route("/api/v1/timelines/tag/{hashtag}", tag_timeline),
]
